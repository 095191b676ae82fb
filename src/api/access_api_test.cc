// Authorization through the API (control-plane spec §2.3-2.5, §8.11 item
// 115): every row of the permission matrix, grants to users and groups,
// 404 masking, visibility of lists, and the audit lines of each change.
#include <gmock/gmock.h>

#include "api/api_test_fixture.h"

namespace blockyard::api::testing {
namespace {

using ::testing::UnorderedElementsAre;

// One app owned by the publisher, and a caller of every relation to it.
class AccessApiTest : public ApiTest {
 protected:
  AccessApiTest() {
    config_.oidc.emplace().groups_claim = "groups";
    app_ = create_app("sales");
    id_ = app_["id"];
    stranger_ = add_user("stranger-sub", "publisher");
    grantee_viewer_ = add_user("grantee-viewer", "viewer");
    grantee_collab_ = add_user("grantee-collab", "viewer");
    grant("grantee-viewer", "user", "viewer");
    grant("grantee-collab", "user", "collaborator");
  }

  void grant(const std::string& principal, const std::string& kind, const std::string& role,
             int expected = 204) {
    auto r = call("POST", "/api/v1/apps/sales/access", publisher_token_,
                  json{{"principal", principal}, {"kind", kind}, {"role", role}}.dump());
    ASSERT_EQ(r.status, expected) << r.body;
  }

  // Status of each operation of the matrix for the holder of `token`, in a
  // fixed order, each on a fresh app state where it matters.
  std::vector<int> matrix_row(const std::string& token) {
    std::vector<int> row;
    row.push_back(call("GET", "/api/v1/apps/sales", token).status);          // view
    row.push_back(call("GET", "/api/v1/apps/sales/bundles", token).status);  // list bundles
    // Past the relation check, a body that is no bundle and a log request
    // naming no worker are refused as bad requests (400).
    row.push_back(call("POST", "/api/v1/apps/sales/bundles", token, "not a bundle").status);
    row.push_back(call("GET", "/api/v1/apps/sales/logs", token).status);      // logs
    row.push_back(call("GET", "/api/v1/apps/sales/runtime", token).status);   // runtime
    row.push_back(call("POST", "/api/v1/apps/sales/disable", token).status);  // stop
    row.push_back(call("POST", "/api/v1/apps/sales/enable", token).status);   // start
    row.push_back(call("PATCH", "/api/v1/apps/sales", token, json{{"title", "Sales"}}.dump())
                      .status);  // config
    row.push_back(call("PATCH", "/api/v1/apps/sales", token, json{{"access_type", "acl"}}.dump())
                      .status);                                             // access type
    row.push_back(call("GET", "/api/v1/apps/sales/access", token).status);  // list ACL
    return row;
  }

  json app_;
  std::string id_;
  std::string stranger_, grantee_viewer_, grantee_collab_;
};

TEST_F(AccessApiTest, PermissionMatrixForEveryRelation) {
  using V = std::vector<int>;
  const V none(10, 404);
  EXPECT_EQ(matrix_row(stranger_), none) << "none";
  EXPECT_EQ(matrix_row(grantee_viewer_), (V{200, 404, 404, 404, 404, 404, 404, 404, 404, 404}))
      << "viewer";
  EXPECT_EQ(matrix_row(grantee_collab_), (V{200, 200, 400, 400, 200, 200, 200, 200, 404, 404}))
      << "collaborator";
  EXPECT_EQ(matrix_row(publisher_token_), (V{200, 200, 400, 400, 200, 200, 200, 200, 200, 200}))
      << "owner";
  EXPECT_EQ(matrix_row(admin_token_), (V{200, 200, 400, 400, 200, 200, 200, 200, 200, 200}))
      << "admin";

  // logged_in and public make every signed-in user a viewer, and no more.
  for (const char* type : {"logged_in", "public"}) {
    ASSERT_EQ(
        call("PATCH", "/api/v1/apps/sales", publisher_token_, json{{"access_type", type}}.dump())
            .status,
        200);
    EXPECT_EQ(matrix_row(stranger_), (V{200, 404, 404, 404, 404, 404, 404, 404, 404, 404}))
        << "viewer through access_type " << type;
    EXPECT_EQ(body_of(call("GET", "/api/v1/apps/sales", stranger_))["access_type"], type)
        << "the viewer's attempt to reset access_type changed nothing";
    ASSERT_EQ(
        call("PATCH", "/api/v1/apps/sales", publisher_token_, json{{"access_type", "acl"}}.dump())
            .status,
        200);
  }
  EXPECT_EQ(matrix_row(stranger_), none) << "none again under acl";
}

TEST_F(AccessApiTest, DeleteNeedsOwnerOrAdmin) {
  EXPECT_EQ(call("DELETE", "/api/v1/apps/sales", grantee_collab_).status, 404);
  EXPECT_EQ(call("DELETE", "/api/v1/apps/sales", grantee_viewer_).status, 404);
  EXPECT_EQ(call("DELETE", "/api/v1/apps/sales", stranger_).status, 404);
  EXPECT_EQ(call("DELETE", "/api/v1/apps/sales", publisher_token_).status, 204);
  create_app("other");
  EXPECT_EQ(call("DELETE", "/api/v1/apps/other", admin_token_).status, 204);
}

TEST_F(AccessApiTest, RenameAndGrantsNeedOwner) {
  auto rename =
      call("PATCH", "/api/v1/apps/sales", grantee_collab_, json{{"name", "sales-2"}}.dump());
  EXPECT_EQ(rename.status, 404) << "an insufficient relation is masked as not found";
  EXPECT_EQ(body_of(rename)["message"], "app not found");
  EXPECT_EQ(call("POST", "/api/v1/apps/sales/access", grantee_collab_,
                 json{{"principal", "x"}, {"kind", "user"}, {"role", "viewer"}}.dump())
                .status,
            404);
  EXPECT_EQ(call("DELETE", "/api/v1/apps/sales/access/user/grantee-viewer", grantee_collab_).status,
            404);
}

TEST_F(AccessApiTest, GrantListRevokeCycleByNameAndById) {
  auto listed = call("GET", "/api/v1/apps/" + id_ + "/access", publisher_token_);
  ASSERT_EQ(listed.status, 200);
  json grants = body_of(listed);
  ASSERT_EQ(grants.size(), 2u);
  EXPECT_EQ(grants[0]["principal"], "grantee-collab");
  EXPECT_EQ(grants[0]["kind"], "user");
  EXPECT_EQ(grants[0]["role"], "collaborator");
  EXPECT_EQ(grants[0]["granted_by"], "publisher-sub");
  EXPECT_EQ(grants[0]["name"], "User grantee-collab");
  EXPECT_TRUE(grants[0]["granted_at"].is_string());

  // Re-granting changes the role in place.
  grant("grantee-viewer", "user", "collaborator");
  EXPECT_EQ(body_of(call("GET", "/api/v1/apps/sales/access", publisher_token_)).size(), 2u);
  EXPECT_EQ(call("POST", "/api/v1/apps/sales/disable", grantee_viewer_).status, 200);

  // Revoking through the app's name works (the original's quirk did not).
  EXPECT_EQ(
      call("DELETE", "/api/v1/apps/sales/access/user/grantee-viewer", publisher_token_).status,
      204);
  EXPECT_EQ(call("GET", "/api/v1/apps/sales", grantee_viewer_).status, 404);
  auto again = call("DELETE", "/api/v1/apps/sales/access/user/grantee-viewer", publisher_token_);
  EXPECT_EQ(again.status, 404);
  EXPECT_EQ(body_of(again)["message"], "grant not found");
  EXPECT_EQ(
      call("DELETE", "/api/v1/apps/" + id_ + "/access/user/grantee-collab", admin_token_).status,
      204);
}

TEST_F(AccessApiTest, GrantBodyIsValidated) {
  auto message = [&](json body) {
    auto r = call("POST", "/api/v1/apps/sales/access", publisher_token_, body.dump());
    EXPECT_EQ(r.status, 400) << body;
    return body_of(r)["message"].get<std::string>();
  };
  EXPECT_EQ(message({{"principal", "x"}, {"kind", "team"}, {"role", "viewer"}}),
            "kind must be 'user' or 'group'");
  EXPECT_EQ(message({{"principal", "x"}, {"kind", "user"}, {"role", "owner"}}),
            "role must be 'viewer' or 'collaborator'");
  EXPECT_EQ(message({{"principal", ""}, {"kind", "user"}, {"role", "viewer"}}),
            "principal must not be empty");
  EXPECT_EQ(message({{"principal", "publisher-sub"}, {"kind", "user"}, {"role", "viewer"}}),
            "cannot grant access to yourself");
  EXPECT_EQ(call("POST", "/api/v1/apps/sales/access", publisher_token_, "not json").status, 400);

  // Without a groups claim no one's groups are known: a group grant would
  // silently admit no one.
  config_.oidc->groups_claim.clear();
  const std::string no_groups =
      "group grants need [oidc] groups_claim: without it no user's groups are known";
  EXPECT_EQ(message({{"principal", "analysts"}, {"kind", "group"}, {"role", "viewer"}}), no_groups);
  config_.oidc.reset();
  EXPECT_EQ(message({{"principal", "analysts"}, {"kind", "group"}, {"role", "viewer"}}), no_groups);
  EXPECT_EQ(body_of(call("GET", "/api/v1/apps/sales/access", publisher_token_)).size(), 2u)
      << "only the fixture's two user grants";
}

TEST_F(AccessApiTest, GroupGrantsFollowTheSessionsGroups) {
  std::string member = sign_in_as("member-sub", {"analysts"});
  std::string outsider = sign_in_as("outsider-sub", {"marketing"});
  grant("analysts", "group", "viewer");
  EXPECT_EQ(call("GET", "/api/v1/apps/sales", "", "", {{"Cookie", member}}).status, 200);
  EXPECT_EQ(call("GET", "/api/v1/apps/sales", "", "", {{"Cookie", outsider}}).status, 404);
  grant("analysts", "group", "collaborator");
  EXPECT_EQ(call("GET", "/api/v1/apps/sales/bundles", "", "", {{"Cookie", member}}).status, 200);
  // Group grants are listed and revoked like user grants; a group name may
  // hold a "/" (Keycloak group paths), percent-encoded in the URL.
  grant("/eng/data", "group", "viewer");
  json grants = body_of(call("GET", "/api/v1/apps/sales/access", publisher_token_));
  EXPECT_EQ(grants.size(), 4u);
  EXPECT_EQ(grants[2]["kind"], "group");
  EXPECT_FALSE(grants[2].contains("name"));
  EXPECT_EQ(
      call("DELETE", "/api/v1/apps/sales/access/group/%2Feng%2Fdata", publisher_token_).status,
      204);
  EXPECT_EQ(call("DELETE", "/api/v1/apps/sales/access/group/analysts", publisher_token_).status,
            204);
  EXPECT_EQ(call("GET", "/api/v1/apps/sales", "", "", {{"Cookie", member}}).status, 404);
}

TEST_F(AccessApiTest, ListsShowOnlyWhatTheCallerMaySee) {
  create_app("granted-by-group");
  create_app("public-one");
  create_app("hidden");
  call("PATCH", "/api/v1/apps/public-one", publisher_token_,
       json{{"access_type", "public"}}.dump());
  call("POST", "/api/v1/apps/granted-by-group/access", publisher_token_,
       json{{"principal", "analysts"}, {"kind", "group"}, {"role", "viewer"}}.dump());
  auto names = [&](const std::string& token, const std::string& cookie = "") {
    std::vector<std::string> out;
    std::vector<std::pair<std::string, std::string>> headers;
    if (!cookie.empty()) headers.emplace_back("Cookie", cookie);
    json body = body_of(call("GET", "/api/v1/apps", token, "", headers));
    for (const auto& a : body["apps"]) out.push_back(a["name"]);
    EXPECT_EQ(body["total"], out.size());
    return out;
  };
  EXPECT_THAT(names(admin_token_),
              UnorderedElementsAre("sales", "granted-by-group", "public-one", "hidden"));
  EXPECT_THAT(names(grantee_viewer_), UnorderedElementsAre("sales", "public-one"));
  EXPECT_THAT(names(stranger_), UnorderedElementsAre("public-one"));
  EXPECT_THAT(names("", sign_in_as("member-sub", {"analysts"})),
              UnorderedElementsAre("granted-by-group", "public-one"));
  // Each item says how the caller relates to it.
  json items = body_of(call("GET", "/api/v1/apps", grantee_collab_))["apps"];
  ASSERT_EQ(items.size(), 2u);
  for (const auto& a : items) {
    EXPECT_EQ(a["relation"], a["name"] == "sales" ? "collaborator" : "viewer");
  }
  EXPECT_EQ(body_of(call("GET", "/api/v1/apps/sales", grantee_collab_))["relation"],
            "collaborator");
}

TEST_F(AccessApiTest, AccessChangesAreAudited) {
  call("DELETE", "/api/v1/apps/sales/access/user/grantee-viewer", publisher_token_);
  auto lines = audit_lines();
  // create, two grants (fixture), revoke.
  ASSERT_EQ(lines.size(), 4u);
  EXPECT_EQ(lines[0]["action"], "app.create");
  EXPECT_EQ(lines[0]["target"], id_);
  EXPECT_EQ(lines[0]["detail"]["name"], "sales");
  EXPECT_EQ(lines[1]["action"], "access.grant");
  EXPECT_EQ(lines[1]["actor"], "publisher-sub");
  EXPECT_EQ(lines[1]["detail"]["principal"], "grantee-viewer");
  EXPECT_EQ(lines[1]["detail"]["role"], "viewer");
  EXPECT_EQ(lines[1]["detail"]["kind"], "user");
  EXPECT_EQ(lines[1]["source_ip"], "127.0.0.1");
  EXPECT_EQ(lines[3]["action"], "access.revoke");
  EXPECT_EQ(lines[3]["detail"]["principal"], "grantee-viewer");
  for (const auto& l : lines) EXPECT_EQ(l["outcome"], "success");
}

TEST_F(AccessApiTest, AppChangesAndDeploysAreAudited) {
  call("PATCH", "/api/v1/apps/sales", publisher_token_,
       json{{"title", "Sales"}, {"access_type", "logged_in"}}.dump());
  json deployed = deploy("sales", make_archive("sales", {{"app.R", kAppR}}), grantee_collab_);
  call("POST", "/api/v1/apps/sales/disable", publisher_token_);
  call("DELETE", "/api/v1/apps/sales", publisher_token_);
  auto lines = audit_lines();
  ASSERT_GE(lines.size(), 5u);
  auto n = lines.size();
  EXPECT_EQ(lines[n - 5]["action"], "app.update");
  EXPECT_EQ(lines[n - 5]["actor"], "publisher-sub");
  EXPECT_EQ(lines[n - 5]["target"], id_);
  EXPECT_EQ(lines[n - 5]["detail"], (json{{"title", "Sales"}, {"access_type", "logged_in"}}));
  EXPECT_EQ(lines[n - 4]["action"], "bundle.upload");
  EXPECT_EQ(lines[n - 4]["actor"], "grantee-collab") << "a collaborator deployed";
  EXPECT_EQ(lines[n - 4]["target"], id_);
  EXPECT_EQ(lines[n - 4]["detail"],
            (json{{"name", "sales"}, {"bundle_id", deployed["bundle_id"]}}));
  EXPECT_EQ(lines[n - 4]["source_ip"], "127.0.0.1");
  // The background build's outcome, by whoever uploaded it.
  EXPECT_EQ(lines[n - 3]["action"], "bundle.build");
  EXPECT_EQ(lines[n - 3]["actor"], "grantee-collab");
  EXPECT_EQ(lines[n - 3]["target"], id_);
  EXPECT_EQ(lines[n - 3]["detail"], (json{{"bundle_id", deployed["bundle_id"]}}));
  EXPECT_EQ(lines[n - 2]["action"], "app.disable");
  EXPECT_EQ(lines[n - 1]["action"], "app.delete");
  EXPECT_EQ(lines[n - 1]["target"], id_);
  for (std::size_t i = n - 5; i < n; ++i) EXPECT_EQ(lines[i]["outcome"], "success");
}

TEST_F(AccessApiTest, ABuildThatFailsAfterTheUploadIsAuditedWithItsReason) {
  json accepted = deploy(
      "sales", make_archive("needs", {{"app.R", kAppR}, {"DESCRIPTION", "Imports: nosuchpkg\n"}}),
      grantee_collab_);
  const auto bundle = store_->get_bundle(accepted["bundle_id"]);
  ASSERT_TRUE(bundle.has_value());
  ASSERT_EQ(bundle->status, "failed");
  auto lines = audit_lines();
  ASSERT_GE(lines.size(), 2u);
  EXPECT_EQ(lines[lines.size() - 2]["action"], "bundle.upload");
  EXPECT_EQ(lines[lines.size() - 2]["outcome"], "success") << "the upload itself was accepted";
  const json& build = lines.back();
  EXPECT_EQ(build["action"], "bundle.build");
  EXPECT_EQ(build["actor"], "grantee-collab");
  EXPECT_EQ(build["target"], id_);
  EXPECT_EQ(build["outcome"], "failure");
  EXPECT_EQ(build["detail"]["bundle_id"], accepted["bundle_id"]);
  EXPECT_EQ(build["detail"]["reason"], bundle->error.value_or("")) << "the reason the bundle shows";
  EXPECT_NE(build["detail"]["reason"].get<std::string>().find("nosuchpkg"), std::string::npos);
}

TEST_F(AccessApiTest, RefusedDeploysAreAuditedAsFailures) {
  auto r = call("POST", "/api/v1/apps/sales/bundles", grantee_collab_,
                read_file(make_archive("no-app", {{"README.md", "no app"}})));
  ASSERT_EQ(r.status, 400) << r.body;
  json line = audit_lines().back();
  EXPECT_EQ(line["action"], "bundle.upload");
  EXPECT_EQ(line["actor"], "grantee-collab");
  EXPECT_EQ(line["target"], id_);
  EXPECT_EQ(line["outcome"], "failure");
  EXPECT_EQ(line["detail"]["name"], "sales");
  EXPECT_EQ(line["detail"]["reason"], body_of(r)["message"]);
  // One who may not deploy learns nothing, and writes nothing: the app's
  // existence stays masked in the log's absence of a line too.
  const auto count = audit_lines().size();
  EXPECT_EQ(call("POST", "/api/v1/apps/sales/bundles", grantee_viewer_, "x").status, 404);
  EXPECT_EQ(audit_lines().size(), count);
}

}  // namespace
}  // namespace blockyard::api::testing
