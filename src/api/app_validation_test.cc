#include "api/app_validation.h"

#include <gtest/gtest.h>

#include "api/json_views.h"
#include "core/error.h"

namespace blockyard::api {
namespace {

TEST(MemoryLimit, ParsesBinarySuffixesCaseInsensitively) {
  EXPECT_EQ(parse_memory_limit("1024"), 1024);
  EXPECT_EQ(parse_memory_limit("2k"), 2048);
  EXPECT_EQ(parse_memory_limit("256m"), 256ll << 20);
  EXPECT_EQ(parse_memory_limit("512MB"), 512ll << 20);
  EXPECT_EQ(parse_memory_limit("1G"), 1ll << 30);
  EXPECT_EQ(parse_memory_limit("3gb"), 3ll << 30);
}

TEST(MemoryLimit, RejectsMalformedAndOverflowingValues) {
  for (const char* text :
       {"", "m", "1.5g", "-1g", "1 g", "1t", "1gbb", "99999999999999999999", "9999999999999g"}) {
    EXPECT_EQ(parse_memory_limit(text), std::nullopt) << text;
  }
}

TEST(AppPatch, NameIsParsedAndChecked) {
  Config config;
  auto patch = parse_app_patch(nlohmann::json::parse(R"({"name":"new-name"})"), config);
  EXPECT_EQ(patch.name, "new-name");
  EXPECT_TRUE(patch.needs_owner());
  try {
    parse_app_patch(nlohmann::json::parse(R"({"name":"-x"})"), config);
    ADD_FAILURE();
  } catch (const ApiError& e) {
    EXPECT_EQ(e.status(), 400);
    EXPECT_STREQ(e.what(), "name must start with a lowercase letter");
  }
}

TEST(AppPatch, UnsupportedFieldsAre501NotSilentlyIgnored) {
  Config config;
  for (const char* body : {R"({"data_mounts":[]})", R"({"refresh_schedule":"0 3 * * *"})"}) {
    try {
      parse_app_patch(nlohmann::json::parse(body), config);
      ADD_FAILURE() << body;
    } catch (const ApiError& e) {
      EXPECT_EQ(e.status(), 501) << body;
    }
  }
  try {
    parse_app_patch(nlohmann::json::parse(R"({"refresh_schedule":"0 3 *"})"), config);
    ADD_FAILURE();
  } catch (const ApiError& e) {
    EXPECT_EQ(std::string(e.what()), "invalid refresh_schedule cron expression");
  }
}

TEST(AppPatch, ZeroCpuMeansNoLimitAndUncappedWhenMaxIsZero) {
  Config config;
  config.proxy.max_cpu_limit = 0;
  AppPatch big = parse_app_patch(nlohmann::json::parse(R"({"cpu_limit":64})"), config);
  EXPECT_EQ(big.settings.cpu_limit, std::optional<std::optional<double>>(64.0));
  AppPatch zero = parse_app_patch(nlohmann::json::parse(R"({"cpu_limit":0})"), config);
  ASSERT_TRUE(zero.settings.cpu_limit.has_value());
  EXPECT_FALSE(zero.settings.cpu_limit->has_value());
}

TEST(AppStatus, DerivedFromLiveWorkers) {
  auto worker = [](const char* status) {
    WorkerSummary w;
    w.status = status;
    return w;
  };
  EXPECT_EQ(app_status({}).status, "stopped");
  EXPECT_EQ(app_status({worker("draining")}).status, "stopping");
  EXPECT_EQ(app_status({worker("draining"), worker("starting")}).status, "running");
  EXPECT_EQ(app_status({worker("ready")}).status, "running");
}

WorkerSummary ended(const char* status, const char* at, const char* cause, const char* reason) {
  WorkerSummary w;
  w.status = status;
  w.ended_at = at;
  w.end_cause = cause;
  w.end_reason = reason;
  return w;
}

TEST(AppStatus, FailingWhenTheLastWorkerToEndFailedOrDied) {
  const auto failed = ended("failed", "2026-01-01T10:00:02Z", "failed",
                            "R exited with code 1 during start-up");
  const auto idle = ended("ended", "2026-01-01T10:00:01Z", "stopped", "idle");
  // A failed start is not "running", whatever else ended before it.
  AppStatus status = app_status({idle, failed});
  EXPECT_EQ(status.status, "failing");
  EXPECT_EQ(status.reason, "R exited with code 1 during start-up");
  // A worker that was stopped after the failure ends the failing spell.
  EXPECT_EQ(app_status({failed, ended("ended", "2026-01-01T10:00:03Z", "stopped", "idle")}).status,
            "stopped");
  // A worker killed while serving.
  EXPECT_EQ(app_status({ended("ended", "2026-01-01T10:00:04Z", "exited",
                              "R was killed (exit code 137: SIGKILL, most likely out of memory)"),
                        failed})
                .reason,
            "R was killed (exit code 137: SIGKILL, most likely out of memory)");
  // Retrying after a failure is still failing until a worker is ready.
  WorkerSummary retry;
  retry.status = "starting";
  EXPECT_EQ(app_status({retry, failed}).status, "failing");
  WorkerSummary ready;
  ready.status = "ready";
  EXPECT_EQ(app_status({ready, failed}).status, "running");
  EXPECT_EQ(app_status({ready, failed}).reason, "");
}

}  // namespace
}  // namespace blockyard::api
