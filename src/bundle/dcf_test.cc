#include "bundle/dcf.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "bundle/bundle_error.h"

namespace blockyard::bundle {
namespace {

using ::testing::HasSubstr;

TEST(ParseDcf, RecordsFieldsAndContinuationLines) {
  const auto records = parse_dcf(
      "Package: demo\nImports: shiny (>= 1.7),\n  DBI,\n\tjsonlite\nTitle:  Spaced \n\n"
      "Package: second\r\nVersion: 1.0\r\n");
  ASSERT_EQ(records.size(), 2u);
  EXPECT_EQ(records[0].at("Package"), "demo");
  EXPECT_EQ(records[0].at("Imports"), "shiny (>= 1.7),\nDBI,\njsonlite");
  EXPECT_EQ(records[0].at("Title"), "Spaced");
  EXPECT_EQ(records[1].at("Version"), "1.0");
}

TEST(ParseDcf, MalformedLinesNameTheLine) {
  try {
    parse_dcf("Package: x\nthis is not a field\n", "DESCRIPTION");
    FAIL() << "accepted";
  } catch (const BundleError& e) {
    EXPECT_STREQ(e.what(), "DESCRIPTION: line 2: expected \"Field: value\"");
  }
  EXPECT_THROW(parse_dcf("  continued\n"), BundleError);
}

TEST(FormatDcf, RoundTripsMultiLineValues) {
  std::vector<DcfRecord> records = {{{"Package", "a"}, {"Imports", "x,\ny"}, {"Empty", ""}},
                                    {{"Package", "b"}}};
  EXPECT_EQ(parse_dcf(format_dcf(records)), records);
  EXPECT_THROW(format_dcf({{{"Bad Name", "v"}}}), std::invalid_argument);
}

TEST(DependencyField, NamesConstraintsAndSkipsR) {
  const auto deps =
      parse_dependency_field("R (>= 4.0), shiny (>= 1.7.0),\n DBI, , data.table(==1.14-8)");
  ASSERT_EQ(deps.size(), 3u);
  EXPECT_EQ(deps[0].package, "shiny");
  EXPECT_EQ(deps[0].op, ">=");
  EXPECT_EQ(deps[0].version, "1.7.0");
  EXPECT_EQ(deps[1].package, "DBI");
  EXPECT_EQ(deps[1].op, "");
  EXPECT_EQ(deps[2].package, "data.table");
  EXPECT_EQ(deps[2].op, "==");
  EXPECT_EQ(deps[2].version, "1.14-8");
}

TEST(DependencyField, RejectsMalformedEntries) {
  EXPECT_THAT([] { parse_dependency_field("shiny (>= 1.7"); },
              ::testing::ThrowsMessage<BundleError>(HasSubstr("unbalanced")));
  EXPECT_THAT([] { parse_dependency_field("shiny (~ 1.7)"); },
              ::testing::ThrowsMessage<BundleError>(HasSubstr("bad version constraint")));
  EXPECT_THAT([] { parse_dependency_field("_bad"); },
              ::testing::ThrowsMessage<BundleError>(HasSubstr("not a valid package name")));
}

TEST(PackageNames, FollowRsRules) {
  EXPECT_TRUE(is_valid_package_name("data.table"));
  EXPECT_TRUE(is_valid_package_name("R6"));
  EXPECT_FALSE(is_valid_package_name("a"));
  EXPECT_FALSE(is_valid_package_name("1abc"));
  EXPECT_FALSE(is_valid_package_name("abc."));
  EXPECT_FALSE(is_valid_package_name("a_b"));
  EXPECT_FALSE(is_valid_package_name("../x"));
  EXPECT_TRUE(is_valid_package_version("1.0"));
  EXPECT_TRUE(is_valid_package_version("1.14-8"));
  EXPECT_FALSE(is_valid_package_version("1"));
  EXPECT_FALSE(is_valid_package_version("1.0a"));
  EXPECT_FALSE(is_valid_package_version("1..0"));
}

}  // namespace
}  // namespace blockyard::bundle
