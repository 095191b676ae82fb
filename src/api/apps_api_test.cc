#include <gmock/gmock.h>

#include "api/api_test_fixture.h"

namespace blockyard::api::testing {
namespace {

using ::testing::ElementsAre;

TEST_F(ApiTest, MissingBearerIs401AuthenticationRequired) {
  auto response = call("GET", "/api/v1/apps", "");
  EXPECT_EQ(response.status, 401);
  EXPECT_EQ(body_of(response),
            (json{{"error", "unauthorized"}, {"message", "authentication required"}}));
  EXPECT_EQ(response.headers.get("Cache-Control"), "no-store");
}

TEST_F(ApiTest, UnknownTokenIs401InvalidOrExpired) {
  auto response = call("GET", "/api/v1/apps", "by_notarealtoken");
  EXPECT_EQ(response.status, 401);
  EXPECT_EQ(body_of(response)["message"], "invalid or expired token");
}

TEST_F(ApiTest, CreateAppReturnsFullShape) {
  auto response =
      call("POST", "/api/v1/apps", publisher_token_, json{{"name", "sales-dash"}}.dump());
  ASSERT_EQ(response.status, 201) << response.body;
  EXPECT_EQ(response.headers.get("Cache-Control"), "no-store");
  EXPECT_EQ(response.headers.get("Content-Type"), "application/json");
  json app = body_of(response);
  EXPECT_EQ(app["name"], "sales-dash");
  EXPECT_EQ(app["owner"], "publisher-sub");
  EXPECT_EQ(app["access_type"], "acl");
  EXPECT_TRUE(app["active_bundle"].is_null());
  EXPECT_EQ(app["enabled"], true);
  EXPECT_EQ(app["max_sessions_per_worker"], 1);
  EXPECT_TRUE(app["max_workers_per_app"].is_null());
  EXPECT_EQ(app["status"], "stopped");
  EXPECT_EQ(app["tags"], json::array());
  for (const char* key :
       {"id", "memory_limit", "cpu_limit", "title", "description", "pre_warmed_sessions",
        "refresh_schedule", "image", "runtime", "created_at", "updated_at"}) {
    EXPECT_TRUE(app.contains(key)) << key;
  }
  EXPECT_TRUE(is_uuid(app["id"].get<std::string>()));
}

TEST_F(ApiTest, CreateDuplicateNameIs409) {
  create_app("dup");
  auto response = call("POST", "/api/v1/apps", admin_token_, json{{"name", "dup"}}.dump());
  EXPECT_EQ(response.status, 409);
  EXPECT_EQ(body_of(response)["message"], "app name \"dup\" already exists");
}

TEST_F(ApiTest, CreateWithInvalidNameGivesRuleMessage) {
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"", "name must be 1-63 characters"},
      {std::string(64, 'a'), "name must be 1-63 characters"},
      {"Sales", "name must contain only lowercase letters, digits, and hyphens"},
      {"a_b", "name must contain only lowercase letters, digits, and hyphens"},
      {"1abc", "name must start with a lowercase letter"},
      {"abc-", "name must not end with a hyphen"},
  };
  for (const auto& [name, message] : cases) {
    auto response = call("POST", "/api/v1/apps", publisher_token_, json{{"name", name}}.dump());
    EXPECT_EQ(response.status, 400) << name;
    EXPECT_EQ(body_of(response)["message"], message) << name;
  }
  auto bad_json = call("POST", "/api/v1/apps", publisher_token_, "{not json");
  EXPECT_EQ(bad_json.status, 400);
  EXPECT_EQ(body_of(bad_json)["message"], "invalid JSON body");
}

TEST_F(ApiTest, ViewerMayNotCreateApps) {
  auto response = call("POST", "/api/v1/apps", viewer_token_, json{{"name", "x"}}.dump());
  EXPECT_EQ(response.status, 403);
  EXPECT_EQ(body_of(response)["message"], "insufficient permissions");
}

TEST_F(ApiTest, ListSearchesAndPaginates) {
  for (const char* name : {"alpha", "beta", "gamma", "alphabet"}) create_app(name);
  auto all = body_of(call("GET", "/api/v1/apps", publisher_token_));
  EXPECT_EQ(all["total"], 4);
  EXPECT_EQ(all["apps"].size(), 4u);
  EXPECT_EQ(all["page"], 1);
  EXPECT_EQ(all["per_page"], 25);
  EXPECT_EQ(all["apps"][0]["relation"], "owner");

  auto search = body_of(call("GET", "/api/v1/apps?search=ALPHA", publisher_token_));
  EXPECT_EQ(search["total"], 2);
  std::vector<std::string> names;
  for (const auto& app : search["apps"]) names.push_back(app["name"]);
  std::sort(names.begin(), names.end());
  EXPECT_THAT(names, ElementsAre("alpha", "alphabet"));

  auto page1 = body_of(call("GET", "/api/v1/apps?per_page=3&page=1", publisher_token_));
  auto page2 = body_of(call("GET", "/api/v1/apps?per_page=3&page=2", publisher_token_));
  EXPECT_EQ(page1["apps"].size(), 3u);
  EXPECT_EQ(page2["apps"].size(), 1u);
  EXPECT_EQ(page2["total"], 4);
  EXPECT_EQ(page2["page"], 2);

  auto clamped = body_of(call("GET", "/api/v1/apps?per_page=1000", publisher_token_));
  EXPECT_EQ(clamped["per_page"], 100);
}

TEST_F(ApiTest, ListHidesOthersAclAppsFromNonAdmins) {
  create_app("private-one");
  json shared = create_app("shared-one");
  auto patch = call("PATCH", "/api/v1/apps/shared-one", publisher_token_,
                    json{{"access_type", "logged_in"}}.dump());
  ASSERT_EQ(patch.status, 200) << patch.body;

  auto viewer_list = body_of(call("GET", "/api/v1/apps", viewer_token_));
  ASSERT_EQ(viewer_list["total"], 1);
  EXPECT_EQ(viewer_list["apps"][0]["name"], "shared-one");
  EXPECT_EQ(viewer_list["apps"][0]["relation"], "viewer");

  auto admin_list = body_of(call("GET", "/api/v1/apps", admin_token_));
  EXPECT_EQ(admin_list["total"], 2);
  EXPECT_EQ(admin_list["apps"][0]["relation"], "admin");

  auto deleted = call("GET", "/api/v1/apps?deleted=true", viewer_token_);
  EXPECT_EQ(deleted.status, 403);
  EXPECT_EQ(body_of(deleted)["message"], "admin only");
}

TEST_F(ApiTest, GetByNameAndByIdAgree) {
  json created = create_app("lookup");
  std::string id = created["id"];
  auto by_name = call("GET", "/api/v1/apps/lookup", publisher_token_);
  auto by_id = call("GET", "/api/v1/apps/" + id, publisher_token_);
  ASSERT_EQ(by_name.status, 200);
  ASSERT_EQ(by_id.status, 200);
  EXPECT_EQ(body_of(by_name), body_of(by_id));
  EXPECT_EQ(body_of(by_id)["id"], id);
  EXPECT_EQ(body_of(by_id)["relation"], "owner");
  EXPECT_EQ(body_of(by_id)["data_mounts"], json::array());
  EXPECT_EQ(call("GET", "/api/v1/apps/nope", publisher_token_).status, 404);
}

TEST_F(ApiTest, ViewerGets404ForAclAppButSeesLoggedInApp) {
  create_app("secret");
  auto hidden = call("GET", "/api/v1/apps/secret", viewer_token_);
  EXPECT_EQ(hidden.status, 404);
  EXPECT_EQ(body_of(hidden)["message"], "app not found");

  ASSERT_EQ(call("PATCH", "/api/v1/apps/secret", publisher_token_,
                 json{{"access_type", "logged_in"}}.dump())
                .status,
            200);
  auto visible = call("GET", "/api/v1/apps/secret", viewer_token_);
  ASSERT_EQ(visible.status, 200);
  EXPECT_EQ(body_of(visible)["relation"], "viewer");
  // Viewing is not managing: a viewer still cannot change or delete it.
  EXPECT_EQ(call("PATCH", "/api/v1/apps/secret", viewer_token_, json{{"title", "x"}}.dump()).status,
            404);
  EXPECT_EQ(call("DELETE", "/api/v1/apps/secret", viewer_token_).status, 404);
  EXPECT_EQ(call("POST", "/api/v1/apps/secret/disable", viewer_token_).status, 404);
}

TEST_F(ApiTest, PatchRejectsInvalidFieldsWithTheirMessages) {
  create_app("tune");
  config_.proxy.max_cpu_limit = 4.0;
  const std::vector<std::pair<json, std::string>> cases = {
      {{{"max_workers_per_app", 0}}, "max_workers_per_app must be >= 1"},
      {{{"max_sessions_per_worker", 0}}, "max_sessions_per_worker must be >= 1"},
      {{{"memory_limit", "lots"}},
       R"(invalid memory_limit format: use e.g. "256m", "1g", "512mb")"},
      {{{"memory_limit", "12tb"}},
       R"(invalid memory_limit format: use e.g. "256m", "1g", "512mb")"},
      {{{"cpu_limit", -1}}, "cpu_limit must be >= 0"},
      {{{"cpu_limit", 8}}, "cpu_limit must not exceed 4.0"},
      {{{"pre_warmed_sessions", 11}}, "pre_warmed_sessions must be between 0 and 10"},
      {{{"access_type", "everyone"}}, "access_type must be one of: acl, logged_in, public"},
      {{{"max_workers_per_app", "two"}}, "max_workers_per_app must be an integer"},
  };
  for (const auto& [body, message] : cases) {
    auto response = call("PATCH", "/api/v1/apps/tune", publisher_token_, body.dump());
    EXPECT_EQ(response.status, 400) << body.dump();
    EXPECT_EQ(body_of(response)["message"], message) << body.dump();
  }
  // Body checks run before the app lookup.
  auto unknown = call("PATCH", "/api/v1/apps/missing", publisher_token_,
                      json{{"max_workers_per_app", 0}}.dump());
  EXPECT_EQ(unknown.status, 400);
}

TEST_F(ApiTest, PatchStoresFieldsAndClearsWithNull) {
  create_app("tune");
  auto response = call("PATCH", "/api/v1/apps/tune", publisher_token_,
                       json{{"title", "Tuned"},
                            {"description", "about"},
                            {"max_workers_per_app", 3},
                            {"max_sessions_per_worker", 5},
                            {"memory_limit", "512MB"},
                            {"cpu_limit", 1.5},
                            {"pre_warmed_sessions", 2}}
                           .dump());
  ASSERT_EQ(response.status, 200) << response.body;
  json app = body_of(call("GET", "/api/v1/apps/tune", publisher_token_));
  EXPECT_EQ(app["title"], "Tuned");
  EXPECT_EQ(app["description"], "about");
  EXPECT_EQ(app["max_workers_per_app"], 3);
  EXPECT_EQ(app["max_sessions_per_worker"], 5);
  EXPECT_EQ(app["memory_limit"], "512MB");
  EXPECT_EQ(app["cpu_limit"], 1.5);
  EXPECT_EQ(app["pre_warmed_sessions"], 2);

  ASSERT_EQ(
      call("PATCH", "/api/v1/apps/tune", publisher_token_,
           json{{"max_workers_per_app", nullptr}, {"memory_limit", ""}, {"title", nullptr}}.dump())
          .status,
      200);
  app = body_of(call("GET", "/api/v1/apps/tune", publisher_token_));
  EXPECT_TRUE(app["max_workers_per_app"].is_null());
  EXPECT_TRUE(app["memory_limit"].is_null());
  EXPECT_TRUE(app["title"].is_null());
  EXPECT_EQ(app["description"], "about");  // untouched
}

TEST_F(ApiTest, RuntimeFieldRequiresAdmin) {
  create_app("rt");
  auto response =
      call("PATCH", "/api/v1/apps/rt", publisher_token_, json{{"runtime", "runsc"}}.dump());
  EXPECT_EQ(response.status, 403);
  EXPECT_EQ(body_of(response)["message"], "runtime requires admin");
  EXPECT_EQ(
      call("PATCH", "/api/v1/apps/rt", admin_token_, json{{"runtime", "runsc"}}.dump()).status,
      200);
}

TEST_F(ApiTest, DisableStopsWorkersAndEnableRestores) {
  json app = create_app("toggle");
  auto disabled = call("POST", "/api/v1/apps/toggle/disable", publisher_token_);
  ASSERT_EQ(disabled.status, 200);
  EXPECT_EQ(body_of(disabled)["enabled"], false);
  EXPECT_THAT(workers_.stopped_apps(), ElementsAre(app["id"].get<std::string>()));
  auto enabled = call("POST", "/api/v1/apps/toggle/enable", publisher_token_);
  ASSERT_EQ(enabled.status, 200);
  EXPECT_EQ(body_of(enabled)["enabled"], true);
}

TEST_F(ApiTest, StatusReflectsLiveWorkers) {
  json app = create_app("busy");
  workers_.workers.push_back(WorkerSummary{"w1", app["id"], "b1", "draining", "t", {}, {}, {}, {}, {}, {}});
  EXPECT_EQ(body_of(call("GET", "/api/v1/apps/busy", publisher_token_))["status"], "stopping");
  workers_.workers.push_back(WorkerSummary{"w2", app["id"], "b1", "active", "t", {}, {}, {}, {}, {}, {}});
  EXPECT_EQ(body_of(call("GET", "/api/v1/apps/busy", publisher_token_))["status"], "running");
}

TEST_F(ApiTest, StatusIsFailingWithTheReasonWhenItsLastWorkerFailed) {
  json app = create_app("broken");
  WorkerSummary failed{"w1", app["id"], "b1", "failed", "t", std::string("2026-01-01T00:00:01Z"),
                       {}, {}, {}, "failed", "R exited with code 1 during start-up"};
  workers_.workers.push_back(failed);
  json got = body_of(call("GET", "/api/v1/apps/broken", publisher_token_));
  EXPECT_EQ(got["status"], "failing");
  EXPECT_EQ(got["status_reason"], "R exited with code 1 during start-up");
  json listed = body_of(call("GET", "/api/v1/apps", publisher_token_))["apps"][0];
  EXPECT_EQ(listed["status"], "failing");
  EXPECT_EQ(listed["status_reason"], "R exited with code 1 during start-up");
}

TEST_F(ApiTest, DeleteStopsWorkersRemovesRowAndFiles) {
  json app = create_app("doomed");
  std::string id = app["id"];
  deploy("doomed", make_archive("good", {{"app.R", kAppR}}), publisher_token_);
  fs::path app_dir = fs::path(config_.storage.bundle_server_path) / id;
  ASSERT_TRUE(fs::exists(app_dir));

  auto response = call("DELETE", "/api/v1/apps/doomed", publisher_token_);
  EXPECT_EQ(response.status, 204);
  EXPECT_THAT(workers_.stopped_apps(), ElementsAre(id));
  EXPECT_FALSE(fs::exists(app_dir));
  EXPECT_FALSE(store_->get_app(id).has_value());
  EXPECT_EQ(call("GET", "/api/v1/apps/" + id, publisher_token_).status, 404);
}

TEST_F(ApiTest, PurgeIsAdminOnlyAndNeedsASoftDeletedApp) {
  create_app("purgeable");
  auto response = call("DELETE", "/api/v1/apps/purgeable?purge=true", publisher_token_);
  EXPECT_EQ(response.status, 403);
  auto live = call("DELETE", "/api/v1/apps/purgeable?purge=true", admin_token_);
  EXPECT_EQ(live.status, 409);
  EXPECT_EQ(body_of(live)["message"], "app must be soft-deleted before purging");
}

}  // namespace
}  // namespace blockyard::api::testing

namespace blockyard::api::testing {

TEST_F(ApiTest, RenameKeepsTheOldNameResolvingAndReservesIt) {
  json app = create_app("before");
  auto response =
      call("PATCH", "/api/v1/apps/before", publisher_token_, json{{"name", "after"}}.dump());
  ASSERT_EQ(response.status, 200) << response.body;
  EXPECT_EQ(body_of(response)["name"], "after");

  for (const char* key : {"after", "before"}) {
    auto got = call("GET", std::string("/api/v1/apps/") + key, publisher_token_);
    ASSERT_EQ(got.status, 200) << key;
    EXPECT_EQ(body_of(got)["id"], app["id"]) << key;
    EXPECT_EQ(body_of(got)["name"], "after") << key;
  }
  // The former name still serves this app, so nobody else may take it.
  auto taken = call("POST", "/api/v1/apps", admin_token_, json{{"name", "before"}}.dump());
  EXPECT_EQ(taken.status, 409);
  EXPECT_THAT(body_of(taken)["message"].get<std::string>(), ::testing::HasSubstr("alias"));
  create_app("other");
  auto clash =
      call("PATCH", "/api/v1/apps/other", publisher_token_, json{{"name", "before"}}.dump());
  EXPECT_EQ(clash.status, 409);
  auto live_clash =
      call("PATCH", "/api/v1/apps/other", publisher_token_, json{{"name", "after"}}.dump());
  EXPECT_EQ(live_clash.status, 409);
  EXPECT_EQ(body_of(live_clash)["message"], "name already in use");
}

TEST_F(ApiTest, RenameChecksNameRulesAndOwnership) {
  create_app("mine");
  auto bad = call("PATCH", "/api/v1/apps/mine", publisher_token_, json{{"name", "Bad"}}.dump());
  EXPECT_EQ(bad.status, 400);
  EXPECT_EQ(body_of(bad)["message"],
            "name must contain only lowercase letters, digits, and hyphens");
  EXPECT_EQ(call("PATCH", "/api/v1/apps/mine", publisher_token_, json{{"name", 7}}.dump()).status,
            400);
  // A viewer of a logged_in app cannot rename it: 404, as if it did not exist.
  ASSERT_EQ(call("PATCH", "/api/v1/apps/mine", publisher_token_,
                 json{{"access_type", "logged_in"}}.dump())
                .status,
            200);
  EXPECT_EQ(
      call("PATCH", "/api/v1/apps/mine", viewer_token_, json{{"name", "stolen"}}.dump()).status,
      404);
  // A rename together with other fields applies both.
  auto both = call("PATCH", "/api/v1/apps/mine", admin_token_,
                   json{{"name", "renamed"}, {"title", "T"}}.dump());
  ASSERT_EQ(both.status, 200) << both.body;
  EXPECT_EQ(body_of(both)["name"], "renamed");
  EXPECT_EQ(body_of(both)["title"], "T");
}

}  // namespace blockyard::api::testing
