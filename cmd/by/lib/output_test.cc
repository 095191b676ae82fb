#include "lib/output.h"

#include <gtest/gtest.h>

namespace blockyard::cli {
namespace {

TEST(FormatTable, AlignsColumnsWithTwoSpaceGapAndUpperCaseHeaders) {
  const std::string out =
      format_table({"name", "status"}, {{"hello", "running"}, {"a", "stopped"}});
  EXPECT_EQ(out,
            "NAME   STATUS\n"
            "hello  running\n"
            "a      stopped\n");
}

TEST(FormatTable, WidestCellSetsTheColumnAndLastColumnIsNotPadded) {
  const std::string out =
      format_table({"ID", "X", "LAST"}, {{"1", "long-value", ""}, {"22", "", "z"}});
  EXPECT_EQ(out,
            "ID  X           LAST\n"
            "1   long-value\n"
            "22              z\n");
}

TEST(FormatTable, MeasuresUtf8ByCodePoints) {
  const std::string out = format_table({"T", "N"}, {{"\xC3\xA9t\xC3\xA9", "1"}});  // "été"
  EXPECT_EQ(out,
            "T    N\n"
            "\xC3\xA9t\xC3\xA9  1\n");
}

TEST(FormatTable, ShortRowsArePaddedAndLongRowsCut) {
  const std::string out = format_table({"A", "B"}, {{"x"}, {"y", "z", "extra"}});
  EXPECT_EQ(out,
            "A  B\n"
            "x\n"
            "y  z\n");
}

TEST(FormatKeyValues, IndentsAndAlignsValues) {
  const std::string out =
      format_key_values({{"ID", "abc"}, {"Description", "(none)"}, {"CPU", ""}});
  EXPECT_EQ(out,
            "  ID:           abc\n"
            "  Description:  (none)\n"
            "  CPU:\n");
}

TEST(RenderError, HumanModeIsOneErrorLine) {
  EXPECT_EQ(render_error_human("app not found"), "Error: app not found\n");
}

TEST(RenderError, JsonModeHasErrorAndMessage) {
  const auto doc = nlohmann::json::parse(render_error_json("app not found"));
  EXPECT_EQ(doc, (nlohmann::json{{"error", "error"}, {"message", "app not found"}}));
}

TEST(RenderError, JsonModeIsIndentedAndEndsWithNewline) {
  const std::string text = render_error_json("x");
  EXPECT_EQ(text.back(), '\n');
  EXPECT_NE(text.find("\n  \"error\": \"error\""), std::string::npos) << text;
}

TEST(RenderError, JsonDetailsAddFieldsButCannotOverrideErrorOrMessage) {
  const auto doc = nlohmann::json::parse(render_error_json(
      "build failed: boom", {{"task_id", "t1"}, {"message", "spoofed"}, {"error", "x"}}));
  EXPECT_EQ(doc["error"], "error");
  EXPECT_EQ(doc["message"], "build failed: boom");
  EXPECT_EQ(doc["task_id"], "t1");
}

TEST(ApiErrorMessage, PrefersServerMessage) {
  EXPECT_EQ(api_error_message(404, R"({"error":"not_found","message":"app not found"})"),
            "app not found");
}

TEST(ApiErrorMessage, FallsBackToErrorFieldWhenMessageIsMissingOrEmpty) {
  EXPECT_EQ(api_error_message(409, R"({"error":"tag name already exists","message":""})"),
            "tag name already exists");
}

TEST(ApiErrorMessage, NonJsonBodyShowsStatusAndBody) {
  EXPECT_EQ(api_error_message(429, "Too Many Requests\n"), "HTTP 429: Too Many Requests");
  EXPECT_EQ(api_error_message(502, ""), "HTTP 502");
  EXPECT_EQ(api_error_message(500, R"(["not","an","object"])"),
            R"(HTTP 500: ["not","an","object"])");
}

}  // namespace
}  // namespace blockyard::cli
