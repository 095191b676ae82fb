// Bundle and app lifecycle through the API: rollback, retention, soft
// delete / restore / purge, the sweeper, the deployments list, a bundle's
// packages and build log. Builds run for real (ApiTest's process backend).
#include <gmock/gmock.h>

#include "api/api_test_fixture.h"

namespace blockyard::api::testing {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

class LifecycleApiTest : public ApiTest {
 protected:
  std::string deploy_label(const std::string& app, const std::string& label) {
    const std::string app_r =
        "library(shiny)\nshinyApp(fluidPage('" + label + "'), function(...) {})\n";
    json started = deploy(app, make_archive(label, {{"app.R", app_r}}), publisher_token_);
    return started["bundle_id"];
  }
  std::vector<std::string> bundle_ids(const std::string& app) {
    std::vector<std::string> ids;
    auto response = call("GET", "/api/v1/apps/" + app + "/bundles", publisher_token_);
    EXPECT_EQ(response.status, 200) << response.body;
    const json body = body_of(response);
    for (const auto& b : body["bundles"]) ids.push_back(b["id"]);
    return ids;
  }
  json get_app(const std::string& app) {
    return body_of(call("GET", "/api/v1/apps/" + app, publisher_token_));
  }
  // A deployer that reads the current config_ and builds synchronously.
  void replace_deployer() {
    deployer_ = std::make_unique<deploy::Deployer>(
        deploy::deployer_options(config_), *store_, *backend_, tasks_,
        deploy::DeployerHooks{{}, {}, {}}, [](std::function<void()> job) { job(); });
    context_ =
        std::make_unique<ApiContext>(ApiContext{config_, *store_, tasks_, workers_, *deployer_});
    context_->audit = audit_.get();
    router_ = http::Router();
    register_api_routes(router_, *context_);
  }
};

TEST_F(LifecycleApiTest, RollbackChecksTheBundleAndStopsWorkers) {
  json app = create_app("roll");
  const std::string first = deploy_label("roll", "first");
  const std::string second = deploy_label("roll", "second");
  EXPECT_EQ(get_app("roll")["active_bundle"], second);

  auto missing = call("POST", "/api/v1/apps/roll/rollback", publisher_token_, "{}");
  EXPECT_EQ(missing.status, 400);
  EXPECT_EQ(body_of(missing)["message"], "bundle_id is required");
  auto unknown = call("POST", "/api/v1/apps/roll/rollback", publisher_token_,
                      json{{"bundle_id", "nope"}}.dump());
  EXPECT_EQ(unknown.status, 404);
  EXPECT_EQ(body_of(unknown)["message"], "bundle not found");
  auto active = call("POST", "/api/v1/apps/roll/rollback", publisher_token_,
                     json{{"bundle_id", second}}.dump());
  EXPECT_EQ(active.status, 400);
  EXPECT_EQ(body_of(active)["message"], "bundle is already active");
  auto viewer =
      call("POST", "/api/v1/apps/roll/rollback", viewer_token_, json{{"bundle_id", first}}.dump());
  EXPECT_EQ(viewer.status, 404);

  auto ok = call("POST", "/api/v1/apps/roll/rollback", publisher_token_,
                 json{{"bundle_id", first}}.dump());
  ASSERT_EQ(ok.status, 200) << ok.body;
  EXPECT_EQ(body_of(ok)["active_bundle"], first);
  EXPECT_THAT(workers_.stopped_apps(), ElementsAre(app["id"]));
  auto bundle = store_->get_bundle(first);
  EXPECT_EQ(bundle->deployed_by, "publisher-sub");

  // A failed bundle cannot be rolled back to.
  auto bad = call(
      "POST", "/api/v1/apps/roll/bundles", publisher_token_,
      read_file(make_archive("bad", {{"app.R", kAppR}, {"DESCRIPTION", "Imports: nosuchpkg\n"}})));
  ASSERT_EQ(bad.status, 202);
  wait_async();
  const std::string failed = body_of(bad)["bundle_id"];
  auto not_ready = call("POST", "/api/v1/apps/roll/rollback", publisher_token_,
                        json{{"bundle_id", failed}}.dump());
  EXPECT_EQ(not_ready.status, 400);
  EXPECT_EQ(body_of(not_ready)["message"], "bundle is not ready (status: failed)");
}

TEST_F(LifecycleApiTest, BundleDetailListsPackagesAndTheLogSurvivesTheTask) {
  create_app("detail");
  const std::string id = deploy_label("detail", "x");
  auto detail = call("GET", "/api/v1/apps/detail/bundles/" + id, publisher_token_);
  ASSERT_EQ(detail.status, 200) << detail.body;
  json d = body_of(detail);
  EXPECT_EQ(d["active"], true);
  ASSERT_TRUE(d["packages"].is_array());
  bool shiny = false;
  for (const auto& p : d["packages"])
    shiny = shiny || (p["package"] == "shiny" && p["origin"] == "host" && p["requested"] == true);
  EXPECT_TRUE(shiny) << d.dump();
  auto log = call("GET", "/api/v1/apps/detail/bundles/" + id + "/logs", publisher_token_);
  ASSERT_EQ(log.status, 200);
  EXPECT_THAT(log.body, HasSubstr("Bundle activated.\n"));
  EXPECT_EQ(call("GET", "/api/v1/apps/detail/bundles/nope/logs", publisher_token_).status, 404);
  EXPECT_EQ(call("GET", "/api/v1/apps/detail/bundles/" + id + "/logs", viewer_token_).status, 404);
}

TEST_F(LifecycleApiTest, RetentionKeepsTheActiveBundleAndTheNewestOthers) {
  config_.storage.bundle_retention = 1;
  replace_deployer();

  json app = create_app("kept");
  const std::string a = deploy_label("kept", "a");
  const std::string b = deploy_label("kept", "b");
  const std::string c = deploy_label("kept", "c");
  EXPECT_THAT(bundle_ids("kept"), ElementsAre(c, b));
  const fs::path dir = fs::path(config_.storage.bundle_server_path) / app["id"].get<std::string>();
  EXPECT_FALSE(fs::exists(dir / a));
  EXPECT_FALSE(fs::exists(dir / (a + ".tar.gz")));
  EXPECT_FALSE(store_->get_bundle(a).has_value());
  // The active bundle is kept even when it is the oldest.
  ASSERT_EQ(
      call("POST", "/api/v1/apps/kept/rollback", publisher_token_, json{{"bundle_id", b}}.dump())
          .status,
      200);
  const std::string d = deploy_label("kept", "d");
  EXPECT_THAT(bundle_ids("kept"), ElementsAre(d, c));
}

TEST_F(LifecycleApiTest, SoftDeleteRestoreAndPurge) {
  config_.storage.soft_delete_retention = std::chrono::hours(1);
  json app = create_app("soft");
  const std::string id = app["id"];
  deploy_label("soft", "x");
  const fs::path dir = fs::path(config_.storage.bundle_server_path) / id;

  ASSERT_EQ(call("DELETE", "/api/v1/apps/soft", publisher_token_).status, 204);
  EXPECT_EQ(call("GET", "/api/v1/apps/soft", publisher_token_).status, 404);
  EXPECT_TRUE(fs::exists(dir)) << "a soft-deleted app keeps its files";
  auto listed = body_of(call("GET", "/api/v1/apps?deleted=true", admin_token_));
  ASSERT_EQ(listed.size(), 1u);
  EXPECT_EQ(listed[0]["id"], id);
  EXPECT_TRUE(listed[0]["deleted_at"].is_string());
  // The name is free meanwhile; restoring then clashes.
  create_app("soft");
  EXPECT_EQ(call("POST", "/api/v1/apps/" + id + "/restore", admin_token_).status, 409);
  ASSERT_EQ(call("DELETE", "/api/v1/apps/soft", publisher_token_).status, 204);  // the new one
  EXPECT_EQ(call("POST", "/api/v1/apps/" + id + "/restore", viewer_token_).status, 404);
  auto restored = call("POST", "/api/v1/apps/" + id + "/restore", publisher_token_);
  ASSERT_EQ(restored.status, 200) << restored.body;
  EXPECT_EQ(body_of(restored)["name"], "soft");
  EXPECT_EQ(call("POST", "/api/v1/apps/" + id + "/restore", publisher_token_).status, 404)
      << "restoring a live app";

  ASSERT_EQ(call("DELETE", "/api/v1/apps/soft", publisher_token_).status, 204);
  EXPECT_EQ(call("DELETE", "/api/v1/apps/" + id + "?purge=true", admin_token_).status, 204);
  EXPECT_FALSE(fs::exists(dir));
  EXPECT_FALSE(store_->find_app_including_deleted(id).has_value());
}

TEST_F(LifecycleApiTest, SweeperPurgesExpiredSoftDeletes) {
  config_.storage.soft_delete_retention = std::chrono::milliseconds(1);
  replace_deployer();
  json app = create_app("swept");
  ASSERT_TRUE(store_->soft_delete_app(app["id"], "2000-01-01T00:00:00Z"));
  create_app("fresh");
  ASSERT_TRUE(store_->soft_delete_app(
      body_of(call("GET", "/api/v1/apps/fresh", publisher_token_)).value("id", ""),
      "2999-01-01T00:00:00Z"));
  EXPECT_EQ(deployer_->sweep().apps_purged, 1);
  EXPECT_FALSE(store_->find_app_including_deleted(app["id"]).has_value());
  EXPECT_EQ(store_->list_deleted_apps(std::nullopt).size(), 1u);
}

TEST_F(LifecycleApiTest, DeploymentsListNewestFirstAndScopedToTheCaller) {
  create_app("dep-one");
  create_app("dep-two");
  deploy_label("dep-one", "a");
  const std::string newest = deploy_label("dep-two", "b");
  store_->reactivate_bundle(body_of(call("GET", "/api/v1/apps/dep-two", publisher_token_))["id"],
                            newest, "publisher-sub", "2999-01-01T00:00:00Z");
  auto all = body_of(call("GET", "/api/v1/deployments", admin_token_));
  EXPECT_EQ(all["total"], 2);
  EXPECT_EQ(all["deployments"][0]["bundle_id"], newest);
  EXPECT_EQ(all["deployments"][0]["app_name"], "dep-two");
  EXPECT_EQ(all["deployments"][0]["deployed_by_name"], "User publisher-sub");
  EXPECT_EQ(body_of(call("GET", "/api/v1/deployments?search=one", admin_token_))["total"], 1);
  EXPECT_EQ(body_of(call("GET", "/api/v1/deployments?status=failed", admin_token_))["total"], 0);
  EXPECT_EQ(body_of(call("GET", "/api/v1/deployments", viewer_token_))["total"], 0);
  EXPECT_EQ(body_of(call("GET", "/api/v1/deployments", publisher_token_))["total"], 2);
}

// The lifecycle routes answer to the same relations as the other app routes
// (a viewer or a stranger learns nothing, a collaborator may roll back and
// read build logs, only the owner or an admin restores, only an admin
// purges), and each change is audited.
TEST_F(LifecycleApiTest, LifecycleRoutesFollowTheAppAccessAndAreAudited) {
  config_.storage.soft_delete_retention = std::chrono::hours(1);
  json app = create_app("guarded");
  const std::string id = app["id"];
  const std::string collab = add_user("collab-sub", "viewer");
  const std::string granted_viewer = add_user("granted-viewer-sub", "viewer");
  const std::string stranger = add_user("stranger-sub", "publisher");
  for (const auto& [who, role] :
       {std::pair{"collab-sub", "collaborator"}, std::pair{"granted-viewer-sub", "viewer"}}) {
    ASSERT_EQ(call("POST", "/api/v1/apps/guarded/access", publisher_token_,
                   json{{"principal", who}, {"kind", "user"}, {"role", role}}.dump())
                  .status,
              204);
  }
  const std::string first = deploy_label("guarded", "first");
  const std::string second = deploy_label("guarded", "second");
  const std::string rollback_body = json{{"bundle_id", first}}.dump();
  const std::string detail = "/api/v1/apps/guarded/bundles/" + first;

  for (const std::string& token : {granted_viewer, stranger}) {
    EXPECT_EQ(call("GET", detail, token).status, 404);
    EXPECT_EQ(call("GET", detail + "/logs", token).status, 404);
    EXPECT_EQ(call("POST", "/api/v1/apps/guarded/rollback", token, rollback_body).status, 404);
    EXPECT_EQ(body_of(call("GET", "/api/v1/deployments", token))["total"], 0);
  }
  EXPECT_EQ(call("GET", detail, collab).status, 200);
  EXPECT_EQ(call("GET", detail + "/logs", collab).status, 200);
  EXPECT_EQ(body_of(call("GET", "/api/v1/deployments", collab))["total"], 2)
      << "a collaborator sees the app's deployments";
  auto rolled = call("POST", "/api/v1/apps/guarded/rollback", collab, rollback_body);
  ASSERT_EQ(rolled.status, 200) << rolled.body;
  json line = audit_lines().back();
  EXPECT_EQ(line["action"], "bundle.rollback");
  EXPECT_EQ(line["actor"], "collab-sub");
  EXPECT_EQ(line["target"], id);
  EXPECT_EQ(line["detail"], (json{{"name", "guarded"}, {"bundle_id", first}}));

  EXPECT_EQ(call("DELETE", "/api/v1/apps/guarded", collab).status, 404) << "delete needs owner";
  ASSERT_EQ(call("DELETE", "/api/v1/apps/guarded", publisher_token_).status, 204);
  EXPECT_EQ(audit_lines().back()["action"], "app.delete");
  EXPECT_EQ(audit_lines().back()["detail"]["soft"], true);
  EXPECT_EQ(call("POST", "/api/v1/apps/" + id + "/restore", collab).status, 404);
  EXPECT_EQ(call("POST", "/api/v1/apps/" + id + "/restore", stranger).status, 404);
  ASSERT_EQ(call("POST", "/api/v1/apps/" + id + "/restore", publisher_token_).status, 200);
  EXPECT_EQ(audit_lines().back()["action"], "app.restore");
  EXPECT_EQ(audit_lines().back()["actor"], "publisher-sub");

  ASSERT_EQ(call("DELETE", "/api/v1/apps/guarded", publisher_token_).status, 204);
  EXPECT_EQ(call("DELETE", "/api/v1/apps/" + id + "?purge=true", publisher_token_).status, 403)
      << "purging is for admins";
  ASSERT_EQ(call("DELETE", "/api/v1/apps/" + id + "?purge=true", admin_token_).status, 204);
  line = audit_lines().back();
  EXPECT_EQ(line["action"], "app.purge");
  EXPECT_EQ(line["actor"], "admin-sub");
  EXPECT_EQ(line["target"], id);
  EXPECT_FALSE(store_->get_bundle(second).has_value());
}

}  // namespace
}  // namespace blockyard::api::testing
