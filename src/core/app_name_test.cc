#include "core/app_name.h"

#include <gtest/gtest.h>

namespace blockyard {
namespace {

TEST(AppNameRules, AcceptsSlugs) {
  EXPECT_EQ(app_name_error("a"), std::nullopt);
  EXPECT_EQ(app_name_error("sales-dash-2"), std::nullopt);
  EXPECT_EQ(app_name_error(std::string(63, 'z')), std::nullopt);
}

TEST(AppNameRules, NamesTheRuleBroken) {
  EXPECT_EQ(app_name_error(""), "name must be 1-63 characters");
  EXPECT_EQ(app_name_error(std::string(64, 'z')), "name must be 1-63 characters");
  EXPECT_EQ(app_name_error("01_hello"),
            "name must contain only lowercase letters, digits, and hyphens");
  EXPECT_EQ(app_name_error("Hello"),
            "name must contain only lowercase letters, digits, and hyphens");
  EXPECT_EQ(app_name_error("01-hello"), "name must start with a lowercase letter");
  EXPECT_EQ(app_name_error("hello-"), "name must not end with a hyphen");
}

TEST(AppNameSuggestion, TurnsShinyExampleDirectoriesIntoNames) {
  EXPECT_EQ(suggest_app_name("01_hello"), "hello");
  EXPECT_EQ(suggest_app_name("10_download"), "download");
  EXPECT_EQ(suggest_app_name("Sales Dashboard (v2)"), "sales-dashboard-v2");
  EXPECT_EQ(suggest_app_name("my__app--"), "my-app");
  EXPECT_EQ(suggest_app_name("already-fine"), "already-fine");
}

TEST(AppNameSuggestion, EverySuggestionIsValid) {
  for (const char* text : {"01_hello", "A", "x.y.z", "__a__", "ÄÖü-app", "a---b"}) {
    auto name = suggest_app_name(text);
    ASSERT_TRUE(name) << text;
    EXPECT_EQ(app_name_error(*name), std::nullopt) << text << " -> " << *name;
  }
  auto long_name = suggest_app_name(std::string(62, 'a') + "_b");
  ASSERT_TRUE(long_name);
  EXPECT_EQ(*long_name, std::string(62, 'a'));  // cut to 63, then the '-' dropped
}

TEST(AppNameSuggestion, NothingWithoutALetter) {
  EXPECT_EQ(suggest_app_name(""), std::nullopt);
  EXPECT_EQ(suggest_app_name("2024_01"), std::nullopt);
  EXPECT_EQ(suggest_app_name("___"), std::nullopt);
}

}  // namespace
}  // namespace blockyard
