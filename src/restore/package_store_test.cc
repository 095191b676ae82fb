#include "restore/package_store.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <stdlib.h>
#include <sys/stat.h>

#include <atomic>
#include <fstream>
#include <thread>

namespace blockyard::restore {
namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;

StoreEntry entry(const std::string& package, const std::string& version) {
  return {"4.2-x86_64-pc-linux-gnu", package, version, "0123456789abcdef", config_id({})};
}

class PackageStoreTest : public ::testing::Test {
 protected:
  PackageStoreTest() {
    std::string pattern = (fs::temp_directory_path() / "by-store-test-XXXXXX").string();
    if (::mkdtemp(pattern.data()) == nullptr) throw std::runtime_error("mkdtemp");
    dir_ = pattern;
    store_ = std::make_unique<PackageStore>(dir_ / "store");
  }
  ~PackageStoreTest() override { fs::remove_all(dir_); }

  // A staging directory holding an "installed" package.
  fs::path stage(const std::string& package, const std::string& version,
                 const std::string& marker = "") {
    const fs::path staged = store_->new_staging_dir();
    fs::create_directories(staged / package / "R");
    std::ofstream(staged / package / "DESCRIPTION")
        << "Package: " << package << "\nVersion: " << version << "\n";
    std::ofstream(staged / package / "R" / package) << marker;
    fs::create_directories(staged / "00LOCK-leftover");
    return staged;
  }

  fs::path dir_;
  std::unique_ptr<PackageStore> store_;
};

TEST(StoreIds, StableAndDistinct) {
  EXPECT_EQ(repository_source_id("http://r.example/"), repository_source_id("http://r.example"));
  EXPECT_NE(repository_source_id("http://r.example"), repository_source_id("http://r2.example"));
  EXPECT_EQ(repository_source_id("x").size(), 16u);
  EXPECT_EQ(config_id({"b 1 x", "a 2 y"}), config_id({"a 2 y", "b 1 x"}));
  EXPECT_NE(config_id({"a 2 y"}), config_id({"a 3 y"}));
  EXPECT_EQ(config_id({}), "e3b0c44298fc1c14");  // SHA-256 of ""
  EXPECT_EQ(entry("tinyA", "1.0").relative_path(),
            fs::path("4.2-x86_64-pc-linux-gnu/tinyA/1.0/0123456789abcdef-e3b0c44298fc1c14"));
}

TEST_F(PackageStoreTest, IngestMovesOnlyThePackageAndWritesMetadata) {
  const StoreEntry e = entry("tinyA", "1.0");
  EXPECT_FALSE(store_->contains(e));
  const fs::path staged = stage("tinyA", "1.0");
  ::chmod((staged / "tinyA" / "R" / "tinyA").c_str(), 04777);
  {
    auto lock = store_->lock(e);
    EXPECT_TRUE(store_->ingest(staged, e, "{\"package\": \"tinyA\"}\n"));
  }
  EXPECT_TRUE(store_->contains(e));
  EXPECT_FALSE(fs::exists(staged));
  const fs::path path = store_->entry_path(e);
  EXPECT_TRUE(fs::exists(path / "entry.json"));
  EXPECT_FALSE(fs::exists(path / "00LOCK-leftover"));
  struct stat st {};
  ASSERT_EQ(::stat((path / "tinyA" / "R" / "tinyA").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 07777, 0755) << "setuid and group/other write bits are dropped";
}

TEST_F(PackageStoreTest, IngestRefusesTheWrongPackageAndKeepsTheStoreUnchanged) {
  const StoreEntry e = entry("tinyA", "1.0");
  const fs::path staged = stage("tinyA", "2.0");
  EXPECT_THAT([&] { store_->ingest(staged, e, "{}"); },
              ::testing::ThrowsMessage<std::runtime_error>(HasSubstr("not tinyA 1.0")));
  EXPECT_FALSE(store_->contains(e));
  EXPECT_FALSE(fs::exists(store_->entry_path(e)));
}

TEST_F(PackageStoreTest, ConcurrentInstallsOfOneEntryKeepOneCopy) {
  const StoreEntry e = entry("shared", "1.0");
  std::atomic<int> installed{0};
  std::atomic<int> reused{0};
  std::vector<std::thread> threads;
  for (int i = 0; i < 6; ++i) {
    threads.emplace_back([&, i] {
      auto lock = store_->lock(e);
      if (store_->contains(e)) {
        ++reused;
        return;
      }
      // Slow "install" under the lock: the others must wait, not install too.
      const fs::path staged = stage("shared", "1.0", "copy " + std::to_string(i));
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
      if (store_->ingest(staged, e, "{}")) ++installed;
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(installed, 1);
  EXPECT_EQ(reused, 5);
  EXPECT_TRUE(store_->contains(e));
  EXPECT_TRUE(fs::is_empty(store_->root() / ".staging"));
}

TEST_F(PackageStoreTest, LibraryLinksIntoTheStoreWithoutCopying) {
  const StoreEntry a = entry("tinyA", "1.0");
  const StoreEntry b = entry("tinyB", "1.0");
  for (const auto& e : {a, b}) {
    auto lock = store_->lock(e);
    store_->ingest(stage(e.package, e.version), e, "{}");
  }
  store_->assemble_library("bundle-1", {a, b});
  const fs::path lib = store_->library_path("bundle-1");
  EXPECT_TRUE(fs::is_symlink(lib / "tinyA"));
  EXPECT_EQ(fs::read_symlink(lib / "tinyA"), fs::path("../..") / a.relative_path() / "tinyA");
  EXPECT_EQ(fs::canonical(lib / "tinyB" / "DESCRIPTION"),
            fs::canonical(store_->entry_path(b) / "tinyB" / "DESCRIPTION"));
  // Replacing a library is atomic and leaves no temporaries.
  store_->assemble_library("bundle-1", {a});
  EXPECT_FALSE(fs::exists(lib / "tinyB"));
  int others = 0;
  for (const auto& e : fs::directory_iterator(store_->root() / ".libs")) others += e.path() != lib;
  EXPECT_EQ(others, 0);
  // A missing entry fails the assembly and leaves the old library.
  EXPECT_THROW(store_->assemble_library("bundle-1", {entry("absent", "1.0")}), std::runtime_error);
  EXPECT_TRUE(fs::exists(lib / "tinyA"));
}

TEST_F(PackageStoreTest, EvictionKeepsLinkedAndRecentEntries) {
  const StoreEntry used = entry("used", "1.0");
  const StoreEntry old_unused = entry("oldunused", "1.0");
  const StoreEntry fresh = entry("fresh", "1.0");
  for (const auto& e : {used, old_unused, fresh}) {
    auto lock = store_->lock(e);
    store_->ingest(stage(e.package, e.version), e, "{}");
  }
  store_->assemble_library("live-bundle", {used});
  const auto long_ago = fs::file_time_type::clock::now() - std::chrono::hours(48);
  for (const auto& e : {used, old_unused})
    fs::last_write_time(store_->entry_path(e) / "entry.json", long_ago);
  EXPECT_EQ(store_->evict_unused(std::chrono::system_clock::duration::zero()), 0);
  EXPECT_EQ(store_->evict_unused(std::chrono::hours(24)), 1);
  EXPECT_TRUE(store_->contains(used));
  EXPECT_TRUE(store_->contains(fresh));
  EXPECT_FALSE(store_->contains(old_unused));
  EXPECT_FALSE(fs::exists(store_->root() / old_unused.platform / "oldunused"))
      << "empty directories are pruned";
  // Once no library links to it, an old entry goes too.
  store_->remove_library("live-bundle");
  EXPECT_EQ(store_->evict_unused(std::chrono::hours(24)), 1);
  EXPECT_FALSE(store_->contains(used));
}

TEST_F(PackageStoreTest, InterruptedWorkIsRemovedAtStartUp) {
  const fs::path staged = stage("half", "1.0");
  fs::create_directories(store_->root() / ".libs" / ".tmp-123");
  fs::create_directories(store_->root() / ".libs" / ".build-456");
  fs::create_directories(store_->root() / ".libs" / "kept-bundle");
  store_->remove_interrupted_work();
  EXPECT_FALSE(fs::exists(staged));
  EXPECT_FALSE(fs::exists(store_->root() / ".libs" / ".tmp-123"));
  EXPECT_FALSE(fs::exists(store_->root() / ".libs" / ".build-456"));
  EXPECT_TRUE(fs::exists(store_->root() / ".libs" / "kept-bundle"));
}

TEST_F(PackageStoreTest, RejectsPathTricks) {
  StoreEntry e = entry("x1", "1.0");
  e.version = "../../etc";
  EXPECT_THROW(store_->entry_path(e), std::runtime_error);
  EXPECT_THROW(store_->library_path("../x"), std::runtime_error);
}

}  // namespace
}  // namespace blockyard::restore
