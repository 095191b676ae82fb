#include "state/open_state.h"

#include <gtest/gtest.h>

#include "core/config.h"

namespace blockyard::state {
namespace {

std::string refusal(const Config& config) {
  try {
    open_state(config);
  } catch (const std::runtime_error& e) {
    return e.what();
  }
  return "";
}

TEST(OpenState, MemoryByDefaultOverTheConfiguredRanges) {
  Config config;
  ProcessConfig process;
  process.port_range_start = 20000;
  process.port_range_end = 20009;
  process.worker_uid_range_start = 70000;
  process.worker_uid_range_end = 70019;
  config.process = process;
  DataPlaneState state = open_state(config);
  EXPECT_EQ(state.implementation, "memory");
  ASSERT_TRUE(state.sessions && state.workers && state.ports && state.uids);
  EXPECT_EQ(state.ports->first(), 20000);
  EXPECT_EQ(state.ports->size(), 10);
  EXPECT_EQ(state.uids->first(), 70000);
  EXPECT_EQ(state.uids->size(), 20);
  config.proxy.session_store = "memory";
  EXPECT_EQ(open_state(config).implementation, "memory");
}

TEST(OpenState, RefusesSharedStateItDoesNotHaveNamingTheKey) {
  Config config;
  config.proxy.session_store = "redis";
  config.redis = RedisConfig{"redis://127.0.0.1:6379/0", "blockyard:"};
  EXPECT_NE(refusal(config).find("proxy.session_store = \"redis\""), std::string::npos)
      << refusal(config);
  config.proxy.session_store = "";
  const std::string automatic = refusal(config);
  EXPECT_NE(automatic.find("proxy.session_store = \"redis\""), std::string::npos) << automatic;
  EXPECT_NE(automatic.find("[redis] is configured"), std::string::npos) << automatic;
}

}  // namespace
}  // namespace blockyard::state
