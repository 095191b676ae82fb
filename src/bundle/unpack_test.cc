#include "bundle/unpack.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <cstdlib>

#include "bundle/test_support.h"

namespace blockyard::bundle {
namespace {

using testing::ArchiveBuilder;
using ::testing::HasSubstr;
using testing::permissions_of;
using testing::read_text;
using testing::snapshot;
using ::testing::StartsWith;
using testing::TempDir;
using testing::write_text;
namespace fs = std::filesystem;

class UnpackTest : public ::testing::Test {
 protected:
  fs::path archive() const { return tmp_ / "bundle.tar.gz"; }
  fs::path dest() const { return tmp_ / "out"; }

  // Unpacks archive() into dest() expecting a BundleError; returns its text
  // after checking nothing was left behind.
  std::string rejection(const UnpackLimits& limits = {}) {
    std::string message;
    try {
      unpack_bundle(archive(), dest(), limits);
      ADD_FAILURE() << "unpack_bundle accepted the archive";
    } catch (const BundleError& e) {
      message = e.what();
    }
    EXPECT_FALSE(fs::exists(fs::symlink_status(dest()))) << "dest left behind";
    return message;
  }

  TempDir tmp_;
};

TEST_F(UnpackTest, ExtractsFilesAndDirectories) {
  ArchiveBuilder(archive())
      .file("app.R", "shinyApp(ui, server)\n")
      .dir("www")
      .file("www/style.css", "body {}\n")
      .file("data/deep/values.csv", "a,b\n1,2\n")  // parents created implicitly
      .file("empty.txt", "")
      .finish();
  unpack_bundle(archive(), dest());
  std::map<std::string, std::string> expected = {
      {"app.R", "file:shinyApp(ui, server)\n"},
      {"www", "dir"},
      {"www/style.css", "file:body {}\n"},
      {"data", "dir"},
      {"data/deep", "dir"},
      {"data/deep/values.csv", "file:a,b\n1,2\n"},
      {"empty.txt", "file:"},
  };
  EXPECT_EQ(snapshot(dest()), expected);
}

TEST_F(UnpackTest, IgnoresTarModesAndUmask) {
  ArchiveBuilder(archive())
      .dir("private", 0700)
      .file("private/run.sh", "echo\n", 04777)
      .file("locked.R", "1\n", 0000)
      .finish();
  mode_t old_mask = ::umask(077);
  unpack_bundle(archive(), dest());
  ::umask(old_mask);
  EXPECT_EQ(permissions_of(dest()), 0755u);
  EXPECT_EQ(permissions_of(dest() / "private"), 0755u);
  EXPECT_EQ(permissions_of(dest() / "private/run.sh"), 0644u);
  EXPECT_EQ(permissions_of(dest() / "locked.R"), 0644u);
}

TEST_F(UnpackTest, AcceptsDotSlashPrefixFromGnuTar) {
  fs::path src = tmp_ / "src";
  write_text(src / "app.R", "shinyApp()\n");
  write_text(src / "R/helpers.R", "f <- function() 1\n");
  std::string cmd = "tar -czf '" + archive().string() + "' -C '" + src.string() + "' .";
  ASSERT_EQ(std::system(cmd.c_str()), 0);
  ASSERT_THAT(testing::list_entries(archive()), ::testing::Contains("./app.R"));

  unpack_bundle(archive(), dest());
  EXPECT_EQ(snapshot(dest()), snapshot(src));
}

TEST_F(UnpackTest, LaterDuplicateEntryWins) {
  ArchiveBuilder(archive()).file("app.R", "old\n").file("./app.R", "new\n").finish();
  unpack_bundle(archive(), dest());
  EXPECT_EQ(read_text(dest() / "app.R"), "new\n");
}

TEST_F(UnpackTest, RejectsAbsolutePath) {
  ArchiveBuilder(archive()).file("app.R", "x").file("/etc/cron.d/evil", "x").finish();
  EXPECT_EQ(rejection(), "bundle: entry \"/etc/cron.d/evil\": absolute paths are not allowed");
}

TEST_F(UnpackTest, RejectsDotDotTraversal) {
  ArchiveBuilder(archive()).file("app.R", "x").file("../x", "x").finish();
  EXPECT_EQ(rejection(), "bundle: entry \"../x\": path escapes the bundle");
  EXPECT_FALSE(fs::exists(tmp_ / "x"));
}

TEST_F(UnpackTest, RejectsNestedDotDotTraversal) {
  ArchiveBuilder(archive()).dir("a").file("a/b/../../../x", "x").finish();
  EXPECT_EQ(rejection(), "bundle: entry \"a/b/../../../x\": path escapes the bundle");
}

TEST_F(UnpackTest, RejectsSymlink) {
  ArchiveBuilder(archive()).file("app.R", "x").symlink("data", "/etc").finish();
  EXPECT_EQ(rejection(), "bundle: entry \"data\": symlinks are not allowed");
}

TEST_F(UnpackTest, RejectsSymlinkThenWriteThroughIt) {
  ArchiveBuilder(archive()).symlink("escape", "..").file("escape/pwned", "x").finish();
  EXPECT_EQ(rejection(), "bundle: entry \"escape\": symlinks are not allowed");
  EXPECT_FALSE(fs::exists(tmp_ / "pwned"));
}

TEST_F(UnpackTest, RejectsHardlink) {
  ArchiveBuilder(archive()).file("app.R", "x").hardlink("passwd", "/etc/passwd").finish();
  EXPECT_EQ(rejection(), "bundle: entry \"passwd\": hard links are not allowed");
}

TEST_F(UnpackTest, RejectsCharacterDevice) {
  ArchiveBuilder(archive()).special("null", AE_IFCHR).finish();
  EXPECT_EQ(rejection(), "bundle: entry \"null\": character devices are not allowed");
}

TEST_F(UnpackTest, RejectsBlockDevice) {
  ArchiveBuilder(archive()).special("sda", AE_IFBLK).finish();
  EXPECT_EQ(rejection(), "bundle: entry \"sda\": block devices are not allowed");
}

TEST_F(UnpackTest, RejectsFifo) {
  ArchiveBuilder(archive()).file("app.R", "x").special("pipe", AE_IFIFO).finish();
  EXPECT_EQ(rejection(), "bundle: entry \"pipe\": fifos are not allowed");
}

TEST_F(UnpackTest, RejectsTooManyEntries) {
  ArchiveBuilder builder(archive());
  for (int i = 0; i < 6; ++i) builder.file("f" + std::to_string(i), "x");
  builder.finish();
  UnpackLimits limits;
  limits.max_entries = 5;
  EXPECT_EQ(rejection(limits), "bundle: archive has 6 entries; the limit is 5");

  // Exactly at the limit is fine.
  limits.max_entries = 6;
  unpack_bundle(archive(), dest(), limits);
  EXPECT_TRUE(fs::exists(dest() / "f5"));
}

TEST_F(UnpackTest, TooManyEntriesAreCountedForTheMessage) {
  ArchiveBuilder builder(archive());
  for (int i = 0; i < 250; ++i) builder.file("f" + std::to_string(i), "x");
  builder.finish();
  UnpackLimits limits;
  limits.max_entries = 100;
  EXPECT_EQ(rejection(limits), "bundle: archive has 250 entries; the limit is 100");
}

TEST_F(UnpackTest, RejectsTotalSizeOverLimit) {
  ArchiveBuilder(archive())
      .file("a", std::string(600, 'a'))
      .file("b", std::string(600, 'b'))
      .finish();
  UnpackLimits limits;
  limits.max_total_bytes = 1000;
  EXPECT_EQ(rejection(limits),
            "bundle: entry \"b\": bundle unpacks to at least 1200 bytes; the limit is 1000 bytes");
}

TEST_F(UnpackTest, RejectsSingleFileOverLimit) {
  ArchiveBuilder(archive()).file("big", std::string(4096, 'z')).finish();
  UnpackLimits limits;
  limits.max_file_bytes = 4095;
  EXPECT_EQ(rejection(limits),
            "bundle: entry \"big\": file is 4096 bytes; the limit is 4095 bytes per file");
}

TEST_F(UnpackTest, RejectsGzipBomb) {
  // 8 MiB of zeros compresses to a few KiB; the cap stops it mid-stream.
  ArchiveBuilder(archive()).file("bomb", std::string(8 << 20, '\0')).finish();
  ASSERT_LT(fs::file_size(archive()), 64u * 1024);
  UnpackLimits limits;
  limits.max_total_bytes = 1 << 20;
  EXPECT_THAT(rejection(limits),
              HasSubstr("unpacks to at least 8388608 bytes; the limit is 1048576 bytes"));
}

TEST_F(UnpackTest, RejectsCorruptGzip) {
  ArchiveBuilder(archive()).file("app.R", std::string(20000, 'q') + "tail").finish();
  std::string bytes = read_text(archive());
  for (std::size_t i = 20; i < bytes.size() - 20; i += 7) bytes[i] = static_cast<char>(~bytes[i]);
  write_text(archive(), bytes);
  EXPECT_THAT(rejection(), StartsWith("bundle: "));
  EXPECT_THAT(rejection(), ::testing::AnyOf(HasSubstr("corrupt or truncated"),
                                            HasSubstr("not a valid gzip-compressed tar")));
}

TEST_F(UnpackTest, RejectsTruncatedArchive) {
  std::string payload;
  for (int i = 0; payload.size() < 300000; ++i) payload += std::to_string(i * 7919) + ",";
  ArchiveBuilder(archive()).file("app.R", "x").file("data.csv", payload).finish();
  std::string bytes = read_text(archive());
  write_text(archive(), bytes.substr(0, bytes.size() / 2));
  EXPECT_THAT(rejection(), StartsWith("bundle: entry \"data.csv\": corrupt or truncated archive"));
}

TEST_F(UnpackTest, RejectsPlainFile) {
  write_text(archive(), "shinyApp(ui, server)\n");
  EXPECT_EQ(rejection(), "bundle: archive is not gzip-compressed (expected a .tar.gz)");
}

TEST_F(UnpackTest, RejectsEmptyFile) {
  write_text(archive(), "");
  EXPECT_EQ(rejection(), "bundle: archive is not gzip-compressed (expected a .tar.gz)");
}

TEST_F(UnpackTest, RejectsUncompressedTar) {
  ArchiveBuilder(archive(), /*gzip=*/false).file("app.R", "x").finish();
  EXPECT_EQ(rejection(), "bundle: archive is not gzip-compressed (expected a .tar.gz)");
}

TEST_F(UnpackTest, RejectsGzippedNonTar) {
  fs::path text = tmp_ / "bundle.tar";
  write_text(text, std::string(2000, 'x'));
  ASSERT_EQ(std::system(("gzip -n '" + text.string() + "'").c_str()), 0);
  EXPECT_THAT(rejection(), StartsWith("bundle: not a valid gzip-compressed tar archive"));
}

TEST_F(UnpackTest, RejectsFileOverDirectoryConflict) {
  ArchiveBuilder(archive()).file("R", "x").file("R/helpers.R", "y").finish();
  EXPECT_EQ(rejection(), "bundle: entry \"R/helpers.R\": \"R\" is already a file in the bundle");
}

TEST_F(UnpackTest, QuotesHostileNames) {
  ArchiveBuilder(archive()).file("../a\nfake log line\"", "x").finish();
  EXPECT_EQ(rejection(), "bundle: entry \"../a\\x0afake log line\\x22\": path escapes the bundle");
}

TEST_F(UnpackTest, ExistingDestinationIsRefusedAndKept) {
  ArchiveBuilder(archive()).file("app.R", "x").finish();
  fs::create_directory(dest());
  write_text(dest() / "keep.txt", "mine");
  try {
    unpack_bundle(archive(), dest());
    FAIL() << "expected an error";
  } catch (const BundleError& e) {
    FAIL() << "a local problem is not the archive's fault: " << e.what();
  } catch (const std::system_error& e) {
    EXPECT_EQ(e.code(), std::errc::file_exists);
    EXPECT_THAT(e.what(), HasSubstr("cannot create destination"));
  }
  EXPECT_EQ(read_text(dest() / "keep.txt"), "mine");
  EXPECT_FALSE(fs::exists(dest() / "app.R"));
}

TEST_F(UnpackTest, MissingArchiveIsALocalError) {
  try {
    unpack_bundle(archive(), dest());
    FAIL() << "expected an error";
  } catch (const BundleError& e) {
    FAIL() << "a missing file is not the archive's fault: " << e.what();
  } catch (const std::system_error& e) {
    EXPECT_EQ(e.code(), std::errc::no_such_file_or_directory);
  }
  EXPECT_FALSE(fs::exists(dest()));
}

TEST_F(UnpackTest, OverlongNameIsTheArchivesFault) {
  ArchiveBuilder(archive()).file(std::string(300, 'n'), "x").finish();
  EXPECT_EQ(rejection(), "bundle: entry \"" + std::string(200, 'n') + "...\": name too long");
}

}  // namespace
}  // namespace blockyard::bundle
