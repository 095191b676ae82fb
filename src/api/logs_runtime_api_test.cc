#include <gmock/gmock.h>

#include "api/api_test_fixture.h"

namespace blockyard::api::testing {
namespace {

class WorkerApiTest : public ApiTest {
 protected:
  WorkerApiTest() {
    app_id_ = create_app("watched")["id"];
    WorkerSummary live{"w-live",     app_id_, "b1", "active", "2026-01-01T00:00:00Z", {}, {},
                       {"s1", "s2"}, {},      {},   {}};
    live.committed = true;
    live.stats = backend::ResourceUsage{};
    live.stats->memory_bytes = 150u << 20;
    live.stats->memory_limit_bytes = 1u << 30;
    live.stats->cpu_percent = 12.5;
    WorkerSummary dead{
        "w-dead", app_id_, "",        "ended", "2026-01-01T00:00:00Z", "2026-01-01T01:00:00Z", {},
        {},       {},      "stopped", "idle"};
    workers_.workers = {live, dead};
    live_log_ = std::make_shared<LineLog>();
    live_log_->append("Listening on http://127.0.0.1:10001");
    auto dead_log = std::make_shared<LineLog>();
    dead_log->append("bye");
    workers_.logs[app_id_ + "/w-live"] = live_log_;
    workers_.logs[app_id_ + "/w-dead"] = dead_log;
  }
  std::string app_id_;
  std::shared_ptr<LineLog> live_log_;
};

TEST_F(WorkerApiTest, LogsNeedAWorkerOfThisApp) {
  auto missing = call("GET", "/api/v1/apps/watched/logs", publisher_token_);
  EXPECT_EQ(missing.status, 400);
  EXPECT_EQ(body_of(missing)["message"], "worker_id query parameter is required");
  auto unknown = call("GET", "/api/v1/apps/watched/logs?worker_id=other", publisher_token_);
  EXPECT_EQ(unknown.status, 404);
  EXPECT_EQ(body_of(unknown)["message"], "worker not found for app");
}

TEST_F(WorkerApiTest, LogsWithoutStreamReturnBufferedLines) {
  auto response =
      call("GET", "/api/v1/apps/watched/logs?worker_id=w-live&stream=false", publisher_token_);
  ASSERT_EQ(response.status, 200);
  EXPECT_EQ(read_stream(response, 1), "Listening on http://127.0.0.1:10001\n");
}

TEST_F(WorkerApiTest, LogsOfEndedWorkerDoNotFollow) {
  auto response = call("GET", "/api/v1/apps/watched/logs?worker_id=w-dead", publisher_token_);
  ASSERT_EQ(response.status, 200);
  EXPECT_EQ(read_stream(response, 1), "bye\n");
}

TEST_F(WorkerApiTest, LogsOfLiveWorkerFollowUntilTheLogCloses) {
  auto response = call("GET", "/api/v1/apps/watched/logs?worker_id=w-live", publisher_token_);
  ASSERT_EQ(response.status, 200);
  http::Chunk first = response.stream();
  EXPECT_EQ(first.data, "Listening on http://127.0.0.1:10001\n");
  EXPECT_FALSE(first.done);
  live_log_->append("request served");
  live_log_->close();
  EXPECT_EQ(read_stream(response), "request served\n");
}

TEST_F(WorkerApiTest, RuntimeListsWorkersAndSessions) {
  auto response = call("GET", "/api/v1/apps/watched/runtime", publisher_token_);
  ASSERT_EQ(response.status, 200) << response.body;
  json runtime = body_of(response);
  ASSERT_EQ(runtime["workers"].size(), 2u);
  json live = runtime["workers"][0];
  EXPECT_EQ(live["id"], "w-live");
  EXPECT_EQ(live["bundle_id"], "b1");
  EXPECT_EQ(live["status"], "active");
  EXPECT_EQ(live["stats"]["memory_usage_bytes"], 150u << 20);
  EXPECT_EQ(live["stats"]["memory_limit_bytes"], 1u << 30);
  EXPECT_EQ(live["stats"]["cpu_percent"], 12.5);
  EXPECT_FALSE(live.contains("ended_at"));
  EXPECT_EQ(live["committed"], true);
  EXPECT_EQ(live["sessions"].size(), 2u);
  EXPECT_EQ(live["sessions"][0]["id"], "s1");
  json dead = runtime["workers"][1];
  EXPECT_EQ(dead["ended_at"], "2026-01-01T01:00:00Z");
  EXPECT_TRUE(dead["stats"].is_null());
  EXPECT_FALSE(dead.contains("committed")) << "only live workers are committed or not";
  EXPECT_EQ(runtime["active_sessions"], 2);
  EXPECT_TRUE(runtime["last_deployed_at"].is_null());

  EXPECT_EQ(call("GET", "/api/v1/apps/watched/runtime", viewer_token_).status, 404);
}

TEST_F(WorkerApiTest, RuntimeReportsLastDeployment) {
  deploy("watched", make_archive("good", {{"app.R", kAppR}}), publisher_token_);
  json runtime = body_of(call("GET", "/api/v1/apps/watched/runtime", publisher_token_));
  EXPECT_TRUE(runtime["last_deployed_at"].is_string());
}

}  // namespace
}  // namespace blockyard::api::testing
