// Roles and relations (control-plane spec §8.1 item 27, §8.2 items 29-34),
// plus grants to IdP groups.
#include "authz/access.h"

#include <gtest/gtest.h>

#include "authz/roles.h"

namespace blockyard::authz {
namespace {

auth::Caller caller(const std::string& sub, const std::string& role,
                    std::vector<std::string> groups = {}) {
  auth::Caller c;
  c.sub = sub;
  c.name = sub;
  c.role = role;
  c.groups = std::move(groups);
  return c;
}

store::App app_of(const std::string& owner, const std::string& access_type) {
  store::App app;
  app.id = "app-1";
  app.owner = owner;
  app.access_type = access_type;
  return app;
}

store::AccessGrant grant(const std::string& principal, const std::string& kind,
                         const std::string& role) {
  return store::AccessGrant{"app-1", principal, kind, role, "owner", "2026-01-01T00:00:00Z"};
}

TEST(Roles, OrderedAndParsedWithUnknownAsNone) {
  EXPECT_LT(Role::none, Role::viewer);
  EXPECT_LT(Role::viewer, Role::publisher);
  EXPECT_LT(Role::publisher, Role::admin);
  for (Role r : {Role::none, Role::viewer, Role::publisher, Role::admin}) {
    EXPECT_EQ(parse_role(role_name(r)), r);
  }
  EXPECT_EQ(parse_role("superuser"), Role::none);
  EXPECT_EQ(parse_role("Admin"), Role::none);
  EXPECT_FALSE(is_assignable_role("none"));
  EXPECT_TRUE(is_assignable_role("publisher"));
}

TEST(Roles, Capabilities) {
  EXPECT_FALSE(can_create_app(caller("v", "viewer")));
  EXPECT_TRUE(can_create_app(caller("p", "publisher")));
  EXPECT_TRUE(can_create_app(caller("a", "admin")));
  EXPECT_FALSE(can_view_all_apps(caller("p", "publisher")));
  EXPECT_TRUE(can_view_all_apps(caller("a", "admin")));
  EXPECT_FALSE(can_manage_users(caller("p", "publisher")));
  EXPECT_TRUE(can_manage_users(caller("a", "admin")));
  EXPECT_FALSE(can_create_app(caller("x", "bogus")));
}

TEST(Relation, AnonymousCallers) {
  EXPECT_EQ(evaluate_access(nullptr, app_of("o", "acl"), {}), Relation::none);
  EXPECT_EQ(evaluate_access(nullptr, app_of("o", "logged_in"), {}), Relation::none);
  EXPECT_EQ(evaluate_access(nullptr, app_of("o", "public"), {}), Relation::anonymous);
  // Grants never reach anonymous callers.
  EXPECT_EQ(evaluate_access(nullptr, app_of("o", "acl"), {grant("", "user", "viewer")}),
            Relation::none);
}

TEST(Relation, AdminBeatsOwnerAndOwnerBeatsGrants) {
  auto admin = caller("root", "admin");
  EXPECT_EQ(evaluate_access(&admin, app_of("someone", "acl"), {}), Relation::admin);
  EXPECT_EQ(evaluate_access(&admin, app_of("root", "acl"), {}), Relation::admin)
      << "admin even when also owner";
  auto owner = caller("alice", "publisher");
  EXPECT_EQ(evaluate_access(&owner, app_of("alice", "acl"), {grant("alice", "user", "viewer")}),
            Relation::owner);
}

TEST(Relation, UserGrantsTakeTheStrongestRole) {
  auto bob = caller("bob", "viewer");
  auto app = app_of("alice", "acl");
  EXPECT_EQ(evaluate_access(&bob, app, {}), Relation::none);
  EXPECT_EQ(evaluate_access(&bob, app, {grant("bob", "user", "viewer")}), Relation::viewer);
  EXPECT_EQ(evaluate_access(&bob, app, {grant("bob", "user", "collaborator")}),
            Relation::collaborator);
  EXPECT_EQ(evaluate_access(&bob, app,
                            {grant("bob", "user", "viewer"), grant("bob", "user", "collaborator")}),
            Relation::collaborator);
  EXPECT_EQ(evaluate_access(&bob, app, {grant("carol", "user", "collaborator")}), Relation::none);
}

TEST(Relation, GroupGrantsAdmitMembersOnly) {
  auto app = app_of("alice", "acl");
  auto member = caller("dan", "viewer", {"analysts", "finance"});
  auto outsider = caller("eve", "viewer", {"marketing"});
  std::vector<store::AccessGrant> grants = {grant("analysts", "group", "viewer")};
  EXPECT_EQ(evaluate_access(&member, app, grants), Relation::viewer);
  EXPECT_EQ(evaluate_access(&outsider, app, grants), Relation::none);
  // A group grant and a user grant combine to the strongest.
  grants.push_back(grant("dan", "user", "collaborator"));
  EXPECT_EQ(evaluate_access(&member, app, grants), Relation::collaborator);
  // A user grant does not match a group of the same name, nor the reverse.
  auto named_like_group = caller("analysts", "viewer");
  EXPECT_EQ(evaluate_access(&named_like_group, app, {grant("analysts", "group", "viewer")}),
            Relation::none);
  auto in_group_dan = caller("zed", "viewer", {"dan"});
  EXPECT_EQ(evaluate_access(&in_group_dan, app, {grant("dan", "user", "viewer")}), Relation::none);
}

TEST(Relation, AccessTypeGivesSignedInUsersViewer) {
  auto bob = caller("bob", "viewer");
  EXPECT_EQ(evaluate_access(&bob, app_of("alice", "logged_in"), {}), Relation::viewer);
  EXPECT_EQ(evaluate_access(&bob, app_of("alice", "public"), {}), Relation::viewer);
  EXPECT_EQ(evaluate_access(&bob, app_of("alice", "acl"), {}), Relation::none);
  // The system role does not matter below admin.
  auto publisher = caller("pub", "publisher");
  EXPECT_EQ(evaluate_access(&publisher, app_of("alice", "acl"), {}), Relation::none);
}

TEST(Relation, PermissionMatrix) {
  struct Row {
    Relation r;
    bool view, proxy, deploy, remove, manage;
  };
  const Row rows[] = {
      {Relation::none, false, false, false, false, false},
      {Relation::anonymous, true, true, false, false, false},
      {Relation::viewer, true, true, false, false, false},
      {Relation::collaborator, true, true, true, false, false},
      {Relation::owner, true, true, true, true, true},
      {Relation::admin, true, true, true, true, true},
  };
  for (const auto& row : rows) {
    SCOPED_TRACE(relation_name(row.r));
    EXPECT_EQ(can_view(row.r), row.view);
    EXPECT_EQ(can_use_proxy(row.r), row.proxy);
    EXPECT_EQ(can_deploy(row.r), row.deploy);
    EXPECT_EQ(can_delete(row.r), row.remove);
    EXPECT_EQ(can_manage_access(row.r), row.manage);
  }
  EXPECT_EQ(relation_name(static_cast<Relation>(42)), "none");
}

TEST(Relation, ShinyAccessHeaderValues) {
  EXPECT_EQ(shiny_access(Relation::admin), "owner");
  EXPECT_EQ(shiny_access(Relation::owner), "owner");
  EXPECT_EQ(shiny_access(Relation::collaborator), "collaborator");
  EXPECT_EQ(shiny_access(Relation::viewer), "viewer");
  EXPECT_EQ(shiny_access(Relation::anonymous), "anonymous");
  EXPECT_EQ(shiny_access(Relation::none), "anonymous");
}

TEST(Relation, ContentRolesAndKinds) {
  EXPECT_TRUE(is_content_role("viewer"));
  EXPECT_TRUE(is_content_role("collaborator"));
  EXPECT_FALSE(is_content_role("owner"));
  EXPECT_TRUE(is_grant_kind("user"));
  EXPECT_TRUE(is_grant_kind("group"));
  EXPECT_FALSE(is_grant_kind("team"));
}

}  // namespace
}  // namespace blockyard::authz
