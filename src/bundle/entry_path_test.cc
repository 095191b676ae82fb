#include "bundle/entry_path.h"

#include <gtest/gtest.h>

namespace blockyard::bundle {
namespace {

using Parts = std::vector<std::string>;

TEST(ParseEntryPath, DropsDotAndEmptyComponents) {
  EXPECT_EQ(parse_entry_path("app.R").components, Parts{"app.R"});
  EXPECT_EQ(parse_entry_path("./www/style.css").components, (Parts{"www", "style.css"}));
  EXPECT_EQ(parse_entry_path("a//b/./c/").components, (Parts{"a", "b", "c"}));
  EXPECT_TRUE(parse_entry_path("./").is_root());
  EXPECT_TRUE(parse_entry_path(".").is_root());
}

TEST(ParseEntryPath, KeepsNamesThatMerelyContainDots) {
  EXPECT_EQ(parse_entry_path("..hidden/...").components, (Parts{"..hidden", "..."}));
  EXPECT_EQ(parse_entry_path(".Rprofile").components, Parts{".Rprofile"});
}

TEST(ParseEntryPath, RejectsEscapes) {
  for (const char* name : {"..", "../x", "a/../b", "a/..", "./../x", "a/b/../../.."}) {
    EntryPath p = parse_entry_path(name);
    EXPECT_EQ(p.problem, "path escapes the bundle") << name;
    EXPECT_TRUE(p.components.empty()) << name;
  }
}

TEST(ParseEntryPath, RejectsAbsoluteAndEmpty) {
  EXPECT_EQ(parse_entry_path("/etc/passwd").problem, "absolute paths are not allowed");
  EXPECT_EQ(parse_entry_path("//x").problem, "absolute paths are not allowed");
  EXPECT_EQ(parse_entry_path("").problem, "empty path");
}

TEST(QuoteEntryName, EscapesControlAndNonAscii) {
  EXPECT_EQ(quote_entry_name("a b.R"), "\"a b.R\"");
  EXPECT_EQ(quote_entry_name("x\ny\"\\"), "\"x\\x0ay\\x22\\x5c\"");
  EXPECT_EQ(quote_entry_name("\xc3\xa9"), "\"\\xc3\\xa9\"");
  std::string quoted = quote_entry_name(std::string(500, 'a'));
  EXPECT_EQ(quoted, "\"" + std::string(200, 'a') + "...\"");
}

}  // namespace
}  // namespace blockyard::bundle
