#include "lib/text.h"

#include <gtest/gtest.h>

namespace blockyard::cli {
namespace {

TEST(Truncate, KeepsShortTextAndCutsLongTextWithEllipsis) {
  EXPECT_EQ(truncate_text("short", 30), "short");
  EXPECT_EQ(truncate_text(std::string(30, 'a'), 30), std::string(30, 'a'));
  EXPECT_EQ(truncate_text(std::string(31, 'a'), 30), std::string(27, 'a') + "...");
}

TEST(Truncate, NeverSplitsAUtf8Character) {
  const std::string title = "\xC3\xA9\xC3\xA9\xC3\xA9\xC3\xA9\xC3\xA9";  // 5 x é
  EXPECT_EQ(truncate_text(title, 4), "\xC3\xA9...");
  EXPECT_EQ(display_width(title), 5u);
}

TEST(ShortId, TakesTwelveCharacters) {
  EXPECT_EQ(short_id("0123456789abcdef"), "0123456789ab");
  EXPECT_EQ(short_id("abc"), "abc");
}

TEST(FormatBytes, PicksUnit) {
  EXPECT_EQ(format_bytes(512), "512 B");
  EXPECT_EQ(format_bytes(300ull * 1024 * 1024 + 5), "300 MiB");
  EXPECT_EQ(format_bytes(3ull * 1024 * 1024 * 1024 / 2), "1.5 GiB");
}

TEST(UrlEscape, EscapesEverythingButUnreserved) {
  EXPECT_EQ(url_escape("my-app_1.0~x"), "my-app_1.0~x");
  EXPECT_EQ(url_escape("a/b c?d&e#f%"), "a%2Fb%20c%3Fd%26e%23f%25");
  EXPECT_EQ(url_escape("user@example.com"), "user%40example.com");
  EXPECT_EQ(url_escape("\xC3\xA9"), "%C3%A9");
}

TEST(UrlHost, ExtractsHostAndPort) {
  EXPECT_EQ(url_host("http://localhost:8080"), "localhost:8080");
  EXPECT_EQ(url_host("https://by.example.com/base/path?q"), "by.example.com");
  EXPECT_EQ(url_host("https://user:pw@host.test"), "host.test");
  EXPECT_EQ(url_host("no-scheme"), "no-scheme");
}

TEST(SchemeCheck, AcceptsHttpAndHttpsOnly) {
  EXPECT_TRUE(has_http_scheme("http://x"));
  EXPECT_TRUE(has_http_scheme("https://x"));
  EXPECT_FALSE(has_http_scheme("localhost:8080"));
  EXPECT_FALSE(has_http_scheme("ftp://x"));
}

TEST(Version, MajorOfSemver) {
  EXPECT_EQ(semver_major("1.2.3"), 1);
  EXPECT_EQ(semver_major("v10.0.0-rc1"), 10);
  EXPECT_EQ(semver_major("main"), std::nullopt);
  EXPECT_EQ(semver_major("dev.1"), std::nullopt);
  EXPECT_EQ(semver_major(""), std::nullopt);
}

TEST(Version, WarnsOnlyOnMajorMismatch) {
  EXPECT_EQ(version_mismatch_warning("0.1.0", "0.9.2"), std::nullopt);
  EXPECT_EQ(version_mismatch_warning("0.1.0", "main"), std::nullopt);
  EXPECT_EQ(version_mismatch_warning("0.1.0", "v1.0.0"),
            "Warning: by 0.1.0 may be incompatible with server v1.0.0 (major version mismatch)");
}

TEST(Confirm, DefaultYesAnswers) {
  for (const char* yes : {"", "y", "Y", "yes", "YES", " yes \n"})
    EXPECT_TRUE(accepts_default_yes(yes)) << yes;
  for (const char* no : {"n", "no", "nope", "yess", "q"})
    EXPECT_FALSE(accepts_default_yes(no)) << no;
}

TEST(LastLine, SkipsTrailingBlankLines) {
  EXPECT_EQ(last_nonblank_line("restoring...\nERROR: pak failed\n\n  \n"), "ERROR: pak failed");
  EXPECT_EQ(last_nonblank_line("one line no newline"), "one line no newline");
  EXPECT_EQ(last_nonblank_line("a\r\nb\r\n"), "b");
  EXPECT_EQ(last_nonblank_line("\n\n"), "");
  EXPECT_EQ(last_nonblank_line(""), "");
}

}  // namespace
}  // namespace blockyard::cli
