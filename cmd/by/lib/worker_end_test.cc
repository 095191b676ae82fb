#include "lib/worker_end.h"

#include <gtest/gtest.h>

namespace blockyard::cli {
namespace {

using Json = nlohmann::json;

Json runtime_with(Json worker) {
  return Json{{"workers", Json::array({Json{{"id", "other"}, {"status", "active"}}, worker})}};
}

TEST(WorkerEnd, RunningWorkerHasNoEnd) {
  EXPECT_EQ(worker_end(runtime_with({{"id", "w1"}, {"status", "active"}}), "w1"), std::nullopt);
  EXPECT_EQ(worker_end(runtime_with({{"id", "w1"}, {"status", "starting"}}), "w1"), std::nullopt);
}

TEST(WorkerEnd, ExitOnItsOwnIsADeath) {
  auto end = worker_end(runtime_with({{"id", "w1"},
                                      {"status", "ended"},
                                      {"end_cause", "exited"},
                                      {"end_reason", "killed: out of memory (exit code 137)"}}),
                        "w1");
  ASSERT_TRUE(end);
  EXPECT_TRUE(end->died);
  EXPECT_EQ(end->message, "worker w1 exited: killed: out of memory (exit code 137)");
}

TEST(WorkerEnd, StartFailureIsADeath) {
  auto end = worker_end(runtime_with({{"id", "w1"}, {"status", "failed"}}), "w1");
  ASSERT_TRUE(end);
  EXPECT_TRUE(end->died);
  EXPECT_EQ(end->message, "worker w1 failed to start");
}

TEST(WorkerEnd, StopByTheServerIsNot) {
  auto end = worker_end(
      runtime_with({{"id", "w1"}, {"status", "ended"}, {"end_cause", "stopped"},
                    {"end_reason", "idle for 5m"}}),
      "w1");
  ASSERT_TRUE(end);
  EXPECT_FALSE(end->died);
  EXPECT_EQ(end->message, "worker w1 was stopped: idle for 5m");
}

TEST(WorkerEnd, ForgottenWorkerIsGone) {
  auto end = worker_end(Json{{"workers", Json::array()}}, "0123456789abcdef");
  ASSERT_TRUE(end);
  EXPECT_FALSE(end->died);
  EXPECT_EQ(end->message, "worker 0123456789ab is gone");
}

}  // namespace
}  // namespace blockyard::cli
