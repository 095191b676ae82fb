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
  EXPECT_EQ(big.cpu_limit, std::optional<std::optional<double>>(64.0));
  AppPatch zero = parse_app_patch(nlohmann::json::parse(R"({"cpu_limit":0})"), config);
  ASSERT_TRUE(zero.cpu_limit.has_value());
  EXPECT_FALSE(zero.cpu_limit->has_value());
}

TEST(AppStatus, DerivedFromLiveWorkers) {
  auto worker = [](const char* status) {
    WorkerSummary w;
    w.status = status;
    return w;
  };
  EXPECT_EQ(app_status({}), "stopped");
  EXPECT_EQ(app_status({worker("ended")}), "stopped");
  EXPECT_EQ(app_status({worker("draining")}), "stopping");
  EXPECT_EQ(app_status({worker("draining"), worker("starting")}), "running");
}

}  // namespace
}  // namespace blockyard::api
