#include <gmock/gmock.h>

#include "api/api_test_fixture.h"

namespace blockyard::api::testing {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

class BundleApiTest : public ApiTest {
 protected:
  BundleApiTest() {
    app_ = create_app("deploy-me");
    app_id_ = app_["id"];
    app_dir_ = fs::path(config_.storage.bundle_server_path) / app_id_;
  }
  json app_json() { return body_of(call("GET", "/api/v1/apps/deploy-me", publisher_token_)); }
  json bundles() {
    auto response = call("GET", "/api/v1/apps/deploy-me/bundles", publisher_token_);
    EXPECT_EQ(response.status, 200);
    return body_of(response)["bundles"];
  }

  json app_;
  std::string app_id_;
  fs::path app_dir_;
};

TEST_F(BundleApiTest, GoodBundleIsUnpackedAndActivated) {
  fs::path archive =
      make_archive("good", {{"app.R", kAppR}, {"DESCRIPTION", "Package: x\n"}, {"www/a.css", ""}});
  auto response =
      call("POST", "/api/v1/apps/deploy-me/bundles", publisher_token_, read_file(archive));
  ASSERT_EQ(response.status, 202) << response.body;
  json started = body_of(response);
  std::string bundle_id = started["bundle_id"];
  std::string task_id = started["task_id"];
  wait_async();

  auto task = body_of(call("GET", "/api/v1/tasks/" + task_id, publisher_token_));
  EXPECT_EQ(task["status"], "completed");
  EXPECT_EQ(task["id"], task_id);
  EXPECT_EQ(app_json()["active_bundle"], bundle_id);
  EXPECT_THAT(workers_.drained_apps(), ElementsAre(app_id_));
  EXPECT_TRUE(fs::is_regular_file(app_dir_ / (bundle_id + ".tar.gz")));
  EXPECT_EQ(read_file(app_dir_ / bundle_id / "app.R"), kAppR);

  json list = bundles();
  ASSERT_EQ(list.size(), 1u);
  EXPECT_EQ(list[0]["id"], bundle_id);
  EXPECT_EQ(list[0]["status"], "ready");
  EXPECT_EQ(list[0]["deployed_by"], "publisher-sub");
  EXPECT_FALSE(list[0]["deployed_at"].is_null());
  EXPECT_FALSE(list[0].contains("error"));
}

TEST_F(BundleApiTest, TaskLogStreamsTheBuildLines) {
  json started = deploy(
      "deploy-me", make_archive("good", {{"app.R", kAppR}, {"DESCRIPTION", "Imports: shiny\n"}}),
      publisher_token_);
  auto response = call("GET", "/api/v1/tasks/" + started["task_id"].get<std::string>() + "/logs",
                       publisher_token_);
  ASSERT_EQ(response.status, 200);
  ASSERT_TRUE(response.stream);
  EXPECT_THAT(response.headers.get("Content-Type").value_or(""), HasSubstr("text/plain"));
  const std::string log = read_stream(response);
  EXPECT_THAT(log, ::testing::StartsWith("Bundle unpacked (2 files).\n"
                                         "Dependencies from DESCRIPTION, build mode: unpinned\n"
                                         "Requested packages: shiny\n"));
  EXPECT_THAT(log, ::testing::ContainsRegex("shiny [0-9.-]+: the server's R library\n"));
  EXPECT_THAT(log, HasSubstr("0 reused from the package store, 0 installed\n"));
  EXPECT_THAT(log,
              ::testing::EndsWith("Build succeeded. Activating bundle...\nBundle activated.\n"));
  // The same lines stay readable from the bundle's own log.
  auto persisted = call(
      "GET", "/api/v1/apps/deploy-me/bundles/" + started["bundle_id"].get<std::string>() + "/logs",
      publisher_token_);
  ASSERT_EQ(persisted.status, 200);
  EXPECT_EQ(persisted.body, log);
}

TEST_F(BundleApiTest, TaskLogFollowsLinesWrittenWhileStreaming) {
  tasks::Task task = tasks_.create(app_id_);
  task.log->append("first");
  auto response = call("GET", "/api/v1/tasks/" + task.id + "/logs", publisher_token_);
  ASSERT_EQ(response.status, 200);
  http::Chunk chunk = response.stream();
  EXPECT_EQ(chunk.data, "first\n");
  EXPECT_FALSE(chunk.done);
  std::thread writer([&] {
    task.log->append("second");
    tasks_.finish(task.id, true);
  });
  std::string rest = read_stream(response);
  writer.join();
  EXPECT_EQ(rest, "second\n");
}

TEST_F(BundleApiTest, SpooledUploadIsMovedIntoPlace) {
  fs::path archive = make_archive("spooled", {{"app.R", kAppR}});
  auto response = upload_file("deploy-me", archive, publisher_token_);
  ASSERT_EQ(response.status, 202) << response.body;
  wait_async();
  std::string bundle_id = body_of(response)["bundle_id"];
  EXPECT_FALSE(fs::exists(archive));
  EXPECT_TRUE(fs::exists(app_dir_ / (bundle_id + ".tar.gz")));
  EXPECT_EQ(app_json()["active_bundle"], bundle_id);
}

TEST_F(BundleApiTest, MissingEntrypointIs400AndKeepsActiveBundle) {
  json good = deploy("deploy-me", make_archive("good", {{"app.R", kAppR}}), publisher_token_);
  auto response = call("POST", "/api/v1/apps/deploy-me/bundles", publisher_token_,
                       read_file(make_archive("bad", {{"README.md", "no app"}})));
  ASSERT_EQ(response.status, 400);
  json error = body_of(response);
  EXPECT_EQ(error["error"], "bad_request");
  EXPECT_THAT(error["message"].get<std::string>(), HasSubstr("missing entrypoint: app.R"));

  EXPECT_EQ(app_json()["active_bundle"], good["bundle_id"]);
  json list = bundles();
  ASSERT_EQ(list.size(), 2u);
  json failed = list[0]["id"] == good["bundle_id"] ? list[1] : list[0];
  EXPECT_EQ(failed["status"], "failed");
  EXPECT_EQ(failed["error"], error["message"]);
  // Only the good bundle's files remain.
  std::vector<std::string> entries;
  for (const auto& e : fs::directory_iterator(app_dir_)) entries.push_back(e.path().filename());
  std::sort(entries.begin(), entries.end());
  std::string good_id = good["bundle_id"];
  EXPECT_THAT(entries, ElementsAre(good_id, good_id + ".log", good_id + ".manifest.json",
                                   good_id + ".runtime.json", good_id + ".tar.gz"));
}

TEST_F(BundleApiTest, PathTraversalIsRejected) {
  auto response = call("POST", "/api/v1/apps/deploy-me/bundles", publisher_token_,
                       read_file(make_archive("evil", {{"app.R", kAppR}, {"../escaped.R", "x"}})));
  ASSERT_EQ(response.status, 400) << response.body;
  EXPECT_THAT(body_of(response)["message"].get<std::string>(), HasSubstr("../escaped.R"));
  EXPECT_FALSE(fs::exists(app_dir_ / "escaped.R"));
  EXPECT_FALSE(fs::exists(fs::path(config_.storage.bundle_server_path) / "escaped.R"));
  EXPECT_TRUE(app_json()["active_bundle"].is_null());
  json list = bundles();
  ASSERT_EQ(list.size(), 1u);
  EXPECT_EQ(list[0]["status"], "failed");
}

TEST_F(BundleApiTest, GarbageBodyIs400) {
  auto response =
      call("POST", "/api/v1/apps/deploy-me/bundles", publisher_token_, "this is not gzip");
  EXPECT_EQ(response.status, 400);
  EXPECT_TRUE(app_json()["active_bundle"].is_null());
}

TEST_F(BundleApiTest, NonCollaboratorCannotUploadOrList) {
  ASSERT_EQ(call("PATCH", "/api/v1/apps/deploy-me", publisher_token_,
                 json{{"access_type", "public"}}.dump())
                .status,
            200);
  auto upload = call("POST", "/api/v1/apps/deploy-me/bundles", viewer_token_,
                     read_file(make_archive("good", {{"app.R", kAppR}})));
  EXPECT_EQ(upload.status, 404);
  EXPECT_EQ(call("GET", "/api/v1/apps/deploy-me/bundles", viewer_token_).status, 404);
  EXPECT_FALSE(fs::exists(app_dir_));
}

TEST_F(BundleApiTest, TaskOfHiddenAppIs404) {
  json started = deploy("deploy-me", make_archive("good", {{"app.R", kAppR}}), publisher_token_);
  auto response =
      call("GET", "/api/v1/tasks/" + started["task_id"].get<std::string>(), viewer_token_);
  EXPECT_EQ(response.status, 404);
  EXPECT_EQ(body_of(response)["message"], "app not found");
  auto unknown = call("GET", "/api/v1/tasks/nope", publisher_token_);
  EXPECT_EQ(unknown.status, 404);
  EXPECT_EQ(body_of(unknown)["message"], "task nope not found");
}

}  // namespace
}  // namespace blockyard::api::testing
