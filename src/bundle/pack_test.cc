#include "bundle/pack.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sys/stat.h>

#include "bundle/test_support.h"
#include "bundle/unpack.h"

namespace blockyard::bundle {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using testing::list_entries;
using testing::snapshot;
using testing::TempDir;
using testing::write_text;
namespace fs = std::filesystem;

const std::string kAppR = "library(shiny)\nshinyApp(ui, server)\n";
const std::string kUtilsR = "helper <- function() 42\n";
const std::string kBinary("\0\x01\xff\n binary", 11);

class PackTest : public ::testing::Test {
 protected:
  PackTest() {
    write_text(src() / "app.R", kAppR);
    write_text(src() / "R/utils.R", kUtilsR);
    write_text(src() / "data/raw/values.bin", kBinary);
    write_text(src() / "data/empty.csv", "");
    fs::create_directories(src() / "www/img");  // empty dirs survive
    // Hidden things at every depth: none may be shipped.
    write_text(src() / ".Rhistory", "secret history");
    write_text(src() / ".git/config", "[core]");
    write_text(src() / "R/.secret.R", "token <- 'x'");
    write_text(src() / "data/.cache/blob", "cache");
  }

  fs::path src() const { return tmp_ / "app"; }
  fs::path archive() const { return tmp_ / "bundle.tar.gz"; }

  TempDir tmp_;
};

TEST_F(PackTest, RoundTripsVisibleContentExactly) {
  PackStats stats = pack_directory(src(), archive());
  EXPECT_EQ(stats.files, 4u);
  EXPECT_EQ(stats.bytes, kAppR.size() + kUtilsR.size() + kBinary.size());

  fs::path out = tmp_ / "out";
  unpack_bundle(archive(), out);
  auto expected = snapshot(src());
  for (auto it = expected.begin(); it != expected.end();) {
    bool hidden = it->first.front() == '.' || it->first.find("/.") != std::string::npos;
    it = hidden ? expected.erase(it) : std::next(it);
  }
  EXPECT_EQ(snapshot(out), expected);
  EXPECT_FALSE(fs::exists(out / ".Rhistory"));
  EXPECT_FALSE(fs::exists(out / "R/.secret.R"));
}

TEST_F(PackTest, StoresSortedRelativePathsWithoutDotSlash) {
  pack_directory(src(), archive());
  EXPECT_THAT(list_entries(archive()),
              ElementsAre("R/", "R/utils.R", "app.R", "data/", "data/empty.csv", "data/raw/",
                          "data/raw/values.bin", "www/", "www/img/"));
}

TEST_F(PackTest, SameTreeGivesSameEntryOrder) {
  pack_directory(src(), archive());
  fs::path second = tmp_ / "second.tar.gz";
  pack_directory(src(), second);
  EXPECT_EQ(list_entries(archive()), list_entries(second));
}

TEST_F(PackTest, SkipsSymlinksAndFifosWithWarnings) {
  fs::create_symlink("/etc/passwd", src() / "passwd");
  fs::create_directory_symlink("/etc", src() / "etc");
  ASSERT_EQ(::mkfifo((src() / "pipe").c_str(), 0644), 0);
  std::vector<std::string> warnings;
  pack_directory(src(), archive(), [&](const std::string& w) { warnings.push_back(w); });

  EXPECT_THAT(warnings, ElementsAre(HasSubstr("symlink \"etc\""), HasSubstr("symlink \"passwd\""),
                                    HasSubstr("special file \"pipe\"")));
  auto names = list_entries(archive());
  EXPECT_THAT(names, ::testing::Not(::testing::Contains(::testing::StartsWith("etc"))));
  EXPECT_THAT(names, ::testing::Not(::testing::Contains("passwd")));
  // And the server accepts what we produced.
  unpack_bundle(archive(), tmp_ / "out");
}

TEST_F(PackTest, DoesNotPackItsOwnOutput) {
  fs::path inside = src() / "bundle.tar.gz";
  pack_directory(src(), inside);
  EXPECT_THAT(list_entries(inside), ::testing::Not(::testing::Contains("bundle.tar.gz")));
  EXPECT_THAT(list_entries(inside), ::testing::Contains("app.R"));
}

TEST_F(PackTest, StoresFilesystemModes) {
  fs::permissions(src() / "app.R", fs::perms(0750));
  pack_directory(src(), archive());
  ReadArchive reader(archive_read_new());
  archive_read_support_filter_gzip(reader.get());
  archive_read_support_format_tar(reader.get());
  ASSERT_EQ(archive_read_open_filename(reader.get(), archive().c_str(), 10240), ARCHIVE_OK);
  struct archive_entry* e = nullptr;
  bool seen = false;
  while (archive_read_next_header(reader.get(), &e) == ARCHIVE_OK) {
    if (std::string(archive_entry_pathname(e)) == "app.R") {
      EXPECT_EQ(archive_entry_perm(e), 0750u);
      seen = true;
    }
  }
  EXPECT_TRUE(seen);
}

TEST_F(PackTest, EmptyDirectoryGivesValidEmptyArchive) {
  fs::path empty = tmp_ / "empty";
  fs::create_directory(empty);
  PackStats stats = pack_directory(empty, archive());
  EXPECT_EQ(stats.files, 0u);
  EXPECT_TRUE(list_entries(archive()).empty());
}

TEST_F(PackTest, MissingDirectoryFailsWithoutLeavingOutput) {
  EXPECT_THROW(pack_directory(tmp_ / "nope", archive()), std::runtime_error);
  EXPECT_FALSE(fs::exists(archive()));
}

TEST_F(PackTest, UnreadableFileFailsAndRemovesPartialOutput) {
  if (::geteuid() == 0) GTEST_SKIP() << "root reads everything";
  fs::permissions(src() / "app.R", fs::perms::none);
  EXPECT_THROW(pack_directory(src(), archive()), std::runtime_error);
  EXPECT_FALSE(fs::exists(archive()));
}

TEST_F(PackTest, UnwritableOutputFails) {
  try {
    pack_directory(src(), tmp_ / "no/such/dir/out.tar.gz");
    FAIL() << "expected an error";
  } catch (const std::runtime_error& e) {
    EXPECT_THAT(e.what(), HasSubstr("cannot create"));
  }
}

}  // namespace
}  // namespace blockyard::bundle
