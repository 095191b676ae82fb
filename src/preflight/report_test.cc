#include "preflight/report.h"

#include <gtest/gtest.h>

#include <chrono>
#include <thread>

#include "preflight/preflight.h"
#include "preflight/registry.h"

namespace blockyard::preflight {
namespace {

TEST(Report, SummaryCountsEachSeverity) {
  Report report{"",
                {result("a", kError, "x"), result("b", kWarning, "x"), result("c", kWarning, "x"),
                 result("d", kInfo, "x"), result("e", kOk, "x")}};
  Summary s = report.summary();
  EXPECT_EQ(s.errors, 1);
  EXPECT_EQ(s.warnings, 2);
  EXPECT_EQ(s.info, 1);
  EXPECT_EQ(s.ok, 1);
  EXPECT_TRUE(report.has_errors());
}

TEST(Report, SortsBySeverityThenName) {
  std::vector<CheckResult> results{result("b", kOk, ""), result("z", kError, ""),
                                   result("a", kInfo, ""), result("c", kError, "")};
  sort_by_severity(results);
  std::vector<std::string> names;
  for (const auto& r : results) names.push_back(r.name);
  EXPECT_EQ(names, (std::vector<std::string>{"c", "z", "a", "b"}));
}

TEST(Report, JsonShapeMatchesTheApi) {
  Report report{"2024-01-01T00:00:00Z", {result("redis_auth", kError, "open", "redis")}};
  auto json = to_json(report);
  EXPECT_EQ(json["ran_at"], "2024-01-01T00:00:00Z");
  EXPECT_EQ(json["results"][0]["name"], "redis_auth");
  EXPECT_EQ(json["results"][0]["severity"], "error");
  EXPECT_EQ(json["results"][0]["category"], "redis");
  EXPECT_EQ(json["summary"]["errors"], 1);
  EXPECT_EQ(json["summary"]["ok"], 0);
}

TEST(Registry, RunsEveryCheckInOrderEvenAfterAnError) {
  std::vector<Check> checks{
      {"first", "process", true, [](const CheckContext&) { return result("first", kError, "x"); }},
      {"second", "process", true, [](const CheckContext&) { return result("second", kOk, "y"); }}};
  auto report = run_checks(checks, std::make_shared<const CheckContext>());
  ASSERT_EQ(report.results.size(), 2u);
  EXPECT_EQ(report.results[0].name, "first");
  EXPECT_EQ(report.results[1].name, "second");
  EXPECT_FALSE(report.ran_at.empty());
}

TEST(Registry, ThrowingCheckBecomesAnError) {
  std::vector<Check> checks{{"boom", "process", true, [](const CheckContext&) -> CheckResult {
                               throw std::runtime_error("kaput");
                             }}};
  auto report = run_checks(checks, std::make_shared<const CheckContext>());
  ASSERT_EQ(report.results.size(), 1u);
  EXPECT_EQ(report.results[0].severity, "error");
  EXPECT_NE(report.results[0].message.find("kaput"), std::string::npos);
}

TEST(Registry, OverrunningCheckTimesOutAsAnError) {
  auto context = std::make_shared<CheckContext>();
  context->options.check_timeout = std::chrono::milliseconds(100);
  std::vector<Check> checks{{"slow", "process", true, [](const CheckContext&) {
                               std::this_thread::sleep_for(std::chrono::milliseconds(600));
                               return result("slow", kOk, "late");
                             }}};
  auto start = std::chrono::steady_clock::now();
  auto report = run_checks(checks, context);
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::milliseconds(500));
  ASSERT_EQ(report.results.size(), 1u);
  EXPECT_EQ(report.results[0].severity, "error");
  EXPECT_NE(report.results[0].message.find("did not finish"), std::string::npos);
}

TEST(Startup, AnyErrorBlocksAndIsNamedInTheMessage) {
  Report ok{"", {result("a", kWarning, "meh"), result("b", kInfo, "fyi")}};
  EXPECT_FALSE(blocks_startup(ok));
  Report bad{"", {result("bwrap_available", kError, "bwrap not found at \"/nope\"")}};
  EXPECT_TRUE(blocks_startup(bad));
  auto message = startup_failure_message(bad);
  EXPECT_NE(message.find("bwrap_available: bwrap not found at \"/nope\""), std::string::npos);
}

}  // namespace
}  // namespace blockyard::preflight
