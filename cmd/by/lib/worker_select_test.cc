#include "lib/worker_select.h"

#include <gtest/gtest.h>

namespace blockyard::cli {
namespace {

using Json = nlohmann::json;

Json worker(const std::string& id, const std::string& status, const std::string& started) {
  return {{"id", id}, {"status", status}, {"started_at", started}, {"sessions", Json::array()}};
}

TEST(SelectWorker, NewestActiveWinsOverNewerEndedWorker) {
  const Json runtime = {{"workers",
                         {worker("old-active", "active", "2026-01-01T10:00:00Z"),
                          worker("new-active", "active", "2026-01-01T11:00:00Z"),
                          worker("ended", "ended", "2026-01-01T12:00:00Z")}}};
  const auto choice = select_worker(runtime);
  ASSERT_TRUE(choice);
  EXPECT_EQ(choice->id, "new-active");
  EXPECT_EQ(choice->active_workers, 2u);
}

TEST(SelectWorker, FallsBackToNewestOfAnyStatus) {
  const Json runtime = {{"workers",
                         {worker("a", "ended", "2026-01-01T10:00:00Z"),
                          worker("b", "draining", "2026-01-02T10:00:00Z"),
                          worker("c", "ended", "2026-01-01T23:00:00Z")}}};
  const auto choice = select_worker(runtime);
  ASSERT_TRUE(choice);
  EXPECT_EQ(choice->id, "b");
  EXPECT_EQ(choice->active_workers, 0u);
}

TEST(SelectWorker, NoneWhenThereAreNoUsableWorkers) {
  EXPECT_FALSE(select_worker(Json{{"workers", Json::array()}}));
  EXPECT_FALSE(select_worker(Json{{"active_sessions", 0}}));
  EXPECT_FALSE(select_worker(Json{{"workers", {Json{{"status", "active"}}, 42}}}));
  EXPECT_FALSE(select_worker(Json::array()));
}

}  // namespace
}  // namespace blockyard::cli
