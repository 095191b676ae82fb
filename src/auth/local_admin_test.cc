#include <sys/stat.h>

#include <gtest/gtest.h>

#include <fstream>
#include <sstream>

#include "auth/pat.h"
#include "core/error.h"
#include "store/store.h"
#include "store/test_temp_dir.h"

namespace blockyard::auth {
namespace {

using blockyard::testing::TempDir;

std::string read_file(const std::filesystem::path& path) {
  std::ifstream in(path);
  std::stringstream content;
  content << in.rdbuf();
  return content.str();
}

std::string token_in(const std::filesystem::path& path) {
  std::string content = read_file(path);
  if (!content.empty() && content.back() == '\n') content.pop_back();
  return content;
}

mode_t mode_of(const std::filesystem::path& path) {
  struct stat info {};
  if (::stat(path.c_str(), &info) != 0) return 0;
  return info.st_mode & 07777;
}

class LocalAdminTest : public ::testing::Test {
 protected:
  void SetUp() override { store_ = store::open_sqlite_store(dir_.path() / "db" / "by.db"); }

  std::filesystem::path token_file() const { return dir_.path() / "secrets" / "admin-token"; }

  TempDir dir_;
  std::unique_ptr<store::Store> store_;
};

TEST_F(LocalAdminTest, FirstRunCreatesAdminAndPrivateTokenFile) {
  EXPECT_TRUE(ensure_local_admin(*store_, token_file()));

  EXPECT_EQ(mode_of(token_file()), 0600u);
  EXPECT_EQ(mode_of(token_file().parent_path()), 0700u);
  std::string content = read_file(token_file());
  ASSERT_FALSE(content.empty());
  EXPECT_EQ(content.back(), '\n');
  EXPECT_EQ(content.find('\n'), content.size() - 1) << "exactly one line";

  Caller caller = authenticate_token(*store_, token_in(token_file()));
  EXPECT_EQ(caller.sub, "admin");
  EXPECT_EQ(caller.name, "Local admin");
  EXPECT_EQ(caller.role, "admin");
  auto pats = store_->list_pats("admin");
  ASSERT_EQ(pats.size(), 1u);
  EXPECT_EQ(pats[0].name, "local-admin");
  EXPECT_FALSE(pats[0].expires_at);

  // Only the token file is left in its directory: no temp files.
  int entries = 0;
  for ([[maybe_unused]] const auto& entry :
       std::filesystem::directory_iterator(token_file().parent_path())) {
    ++entries;
  }
  EXPECT_EQ(entries, 1);
}

TEST_F(LocalAdminTest, ModesAreExactWhateverTheUmask) {
  for (mode_t mask : {mode_t{0}, mode_t{0277}}) {
    TempDir dir;
    auto file = dir.path() / "nested" / "admin-token";
    mode_t previous = ::umask(mask);
    bool minted = ensure_local_admin(*store_, file);
    ::umask(previous);
    EXPECT_TRUE(minted);
    EXPECT_EQ(mode_of(file), 0600u) << "umask " << mask;
    EXPECT_EQ(mode_of(file.parent_path()), 0700u) << "umask " << mask;
  }
}

TEST_F(LocalAdminTest, SecondRunKeepsAValidToken) {
  ASSERT_TRUE(ensure_local_admin(*store_, token_file()));
  std::string first = read_file(token_file());

  EXPECT_FALSE(ensure_local_admin(*store_, token_file()));
  EXPECT_EQ(read_file(token_file()), first);
  EXPECT_EQ(store_->list_pats("admin").size(), 1u);
}

TEST_F(LocalAdminTest, RemintsWhenTheDatabaseWasWiped) {
  ASSERT_TRUE(ensure_local_admin(*store_, token_file()));
  std::string old_token = token_in(token_file());

  store_.reset();
  std::filesystem::remove_all(dir_.path() / "db");
  store_ = store::open_sqlite_store(dir_.path() / "db" / "by.db");

  EXPECT_TRUE(ensure_local_admin(*store_, token_file()));
  std::string new_token = token_in(token_file());
  EXPECT_NE(new_token, old_token);
  EXPECT_EQ(authenticate_token(*store_, new_token).role, "admin");
  EXPECT_EQ(mode_of(token_file()), 0600u);
}

TEST_F(LocalAdminTest, RemintsWhenTheFileHoldsGarbage) {
  std::filesystem::create_directories(token_file().parent_path());
  std::ofstream(token_file()) << "by_not-a-real-token\n";
  ::chmod(token_file().c_str(), 0600);

  EXPECT_TRUE(ensure_local_admin(*store_, token_file()));
  EXPECT_EQ(authenticate_token(*store_, token_in(token_file())).sub, "admin");
}

TEST_F(LocalAdminTest, RemintsWhenTheTokenWasRevoked) {
  ASSERT_TRUE(ensure_local_admin(*store_, token_file()));
  std::string old_token = token_in(token_file());
  ASSERT_TRUE(store_->revoke_pat("admin", store_->list_pats("admin").at(0).id));

  EXPECT_TRUE(ensure_local_admin(*store_, token_file()));
  EXPECT_NE(token_in(token_file()), old_token);
  EXPECT_EQ(authenticate_token(*store_, token_in(token_file())).sub, "admin");
}

TEST_F(LocalAdminTest, ExposedFileIsRevokedAndReplaced) {
  ASSERT_TRUE(ensure_local_admin(*store_, token_file()));
  std::string leaked = token_in(token_file());
  ASSERT_EQ(::chmod(token_file().c_str(), 0644), 0);

  EXPECT_TRUE(ensure_local_admin(*store_, token_file()));
  EXPECT_EQ(mode_of(token_file()), 0600u);
  EXPECT_NE(token_in(token_file()), leaked);
  EXPECT_THROW(authenticate_token(*store_, leaked), ApiError);
  EXPECT_EQ(authenticate_token(*store_, token_in(token_file())).sub, "admin");
}

TEST_F(LocalAdminTest, RestoresADemotedOrDeactivatedAdmin) {
  ASSERT_TRUE(ensure_local_admin(*store_, token_file()));
  auto admin = *store_->get_user("admin");
  admin.role = "viewer";
  admin.active = false;
  store_->upsert_user(admin);

  EXPECT_FALSE(ensure_local_admin(*store_, token_file())) << "the existing token works again";
  auto restored = *store_->get_user("admin");
  EXPECT_EQ(restored.role, "admin");
  EXPECT_TRUE(restored.active);
  EXPECT_EQ(authenticate_token(*store_, token_in(token_file())).role, "admin");
}

TEST_F(LocalAdminTest, UnwritableLocationThrowsAndLeavesNoUsableToken) {
  std::ofstream(dir_.path() / "blocker") << "a file, not a directory";
  EXPECT_THROW(ensure_local_admin(*store_, dir_.path() / "blocker" / "admin-token"),
               std::system_error);
  for (const auto& pat : store_->list_pats("admin")) {
    ADD_FAILURE() << "token " << pat.id << " was left valid";
  }
}

}  // namespace
}  // namespace blockyard::auth
