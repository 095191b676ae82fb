// Store conformance, identity and access part: sign-ins, field-level user
// updates, grants to users and groups, browser sessions, token rows and the
// bootstrap exchange. Same fixture and instantiation as
// store_conformance_test.cc.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <atomic>
#include <thread>

#include "core/crypto.h"
#include "store/store_conformance.h"

namespace blockyard::store::testing {
namespace {

using ::testing::ElementsAre;
using ::testing::IsEmpty;
using ::testing::UnorderedElementsAre;

const std::string kNow = "2026-03-01T12:00:00Z";

std::vector<std::string> names_of(const std::vector<App>& apps) {
  std::vector<std::string> names;
  for (const auto& app : apps) names.push_back(app.name);
  return names;
}

PersonalAccessToken token_row(const std::string& sub, const std::string& name,
                              const std::string& plaintext, bool revoked = false) {
  PersonalAccessToken pat;
  pat.id = name == "bootstrap-redeemed" ? name : uuid_v4();
  pat.user_sub = sub;
  pat.name = name;
  pat.token_hash = sha256_hex(plaintext);
  pat.created_at = "2026-01-01T00:00:00Z";
  pat.revoked = revoked;
  return pat;
}

UserSession session_for(const std::string& sub, const std::string& id,
                        const std::string& expires_at = "2026-01-02T00:00:00Z") {
  UserSession s;
  s.id = id;
  s.sub = sub;
  s.groups = {"data-team", "finance"};
  s.access_token = "access-1";
  s.refresh_token = "refresh-1";
  s.id_token = "id-token-1";
  s.token_expires_at = "2026-01-01T01:00:00Z";
  s.created_at = "2026-01-01T00:00:00Z";
  s.expires_at = expires_at;
  return s;
}

AccessGrant grant(const std::string& app_id, const std::string& principal, const std::string& kind,
                  const std::string& role) {
  return AccessGrant{app_id, principal, kind, role, "owner-sub", "2026-01-01T00:00:00Z"};
}

// ---- Sign-in and user updates ----

TEST_P(StoreConformanceTest, RecordLoginInsertsWithTheGivenRole) {
  User user =
      store().record_login("alice", "a@example.org", "Alice", "publisher", "2026-03-01T00:00:00Z");
  EXPECT_EQ(user.sub, "alice");
  EXPECT_EQ(user.email, "a@example.org");
  EXPECT_EQ(user.name, "Alice");
  EXPECT_EQ(user.role, "publisher");
  EXPECT_TRUE(user.active);
  EXPECT_EQ(user.last_login, "2026-03-01T00:00:00Z");
  EXPECT_EQ(store().get_user("alice")->role, "publisher");
}

TEST_P(StoreConformanceTest, RecordLoginOfAKnownUserKeepsRoleAndActive) {
  store().record_login("alice", "a@example.org", "Alice", "viewer", "2026-03-01T00:00:00Z");
  store().update_user("alice", std::string("admin"), false);

  User again = store().record_login("alice", "new@example.org", "Alice B", "publisher",
                                    "2026-03-02T00:00:00Z");
  EXPECT_EQ(again.role, "admin") << "role is set only on the first sign-in";
  EXPECT_FALSE(again.active) << "a deactivated user stays deactivated";
  EXPECT_EQ(again.email, "new@example.org");
  EXPECT_EQ(again.name, "Alice B");
  EXPECT_EQ(again.last_login, "2026-03-02T00:00:00Z");

  User quiet = store().record_login("alice", "", "", "viewer", "2026-03-03T00:00:00Z");
  EXPECT_EQ(quiet.email, "new@example.org") << "a provider that omits a claim does not blank it";
  EXPECT_EQ(quiet.name, "Alice B");
}

TEST_P(StoreConformanceTest, ConcurrentFirstSignInsCreateOneUser) {
  std::vector<std::thread> threads;
  std::atomic<int> failures{0};
  for (int i = 0; i < 8; ++i) {
    threads.emplace_back([&, i] {
      try {
        store().record_login("carol", "c@example.org", "Carol", i == 0 ? "publisher" : "viewer",
                             "2026-03-01T00:00:00Z");
      } catch (...) {
        ++failures;
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(failures.load(), 0);
  EXPECT_EQ(store().list_users().size(), 1u);
}

TEST_P(StoreConformanceTest, UpdateUserChangesOnlyTheGivenFields) {
  store().record_login("alice", "a@example.org", "Alice", "viewer", "2026-03-01T00:00:00Z");
  auto promoted = store().update_user("alice", std::string("publisher"), std::nullopt);
  ASSERT_TRUE(promoted);
  EXPECT_EQ(promoted->role, "publisher");
  EXPECT_TRUE(promoted->active);
  EXPECT_EQ(promoted->email, "a@example.org");

  auto deactivated = store().update_user("alice", std::nullopt, false);
  ASSERT_TRUE(deactivated);
  EXPECT_EQ(deactivated->role, "publisher");
  EXPECT_FALSE(deactivated->active);
  EXPECT_EQ(deactivated->last_login, "2026-03-01T00:00:00Z");

  EXPECT_FALSE(store().update_user("nobody", std::string("admin"), std::nullopt));
  EXPECT_FALSE(store().get_user("nobody"));
}

// ---- Tokens ----

TEST_P(StoreConformanceTest, RevokeAllPatsCountsOnlyLiveOnesOfThatUser) {
  store().record_login("alice", "", "", "viewer", "2026-03-01T00:00:00Z");
  store().record_login("bob", "", "", "viewer", "2026-03-01T00:00:00Z");
  store().create_pat(token_row("alice", "one", "t1"));
  store().create_pat(token_row("alice", "two", "t2"));
  store().create_pat(token_row("alice", "old", "t3", /*revoked=*/true));
  store().create_pat(token_row("bob", "bobs", "t4"));

  EXPECT_EQ(store().revoke_all_pats("alice"), 2);
  EXPECT_THAT(store().list_pats("alice"), IsEmpty());
  EXPECT_EQ(store().list_pats("bob").size(), 1u);
  EXPECT_EQ(store().revoke_all_pats("alice"), 0);
}

TEST_P(StoreConformanceTest, BootstrapRedeemsOnceAndLeavesBothRows) {
  store().record_login("root", "", "", "admin", "2026-03-01T00:00:00Z");
  auto burn = token_row("root", "bootstrap-redeemed", "boot-secret", /*revoked=*/true);
  auto pat = token_row("root", "bootstrap", "by_first");
  ASSERT_TRUE(store().redeem_bootstrap(burn, pat));
  auto burned = store().find_pat_by_hash(sha256_hex("boot-secret"));
  ASSERT_TRUE(burned);
  EXPECT_TRUE(burned->revoked);
  EXPECT_EQ(burned->id, "bootstrap-redeemed");
  EXPECT_TRUE(store().find_pat_by_hash(sha256_hex("by_first")));

  auto second = token_row("root", "bootstrap", "by_second");
  EXPECT_FALSE(store().redeem_bootstrap(burn, second));
  EXPECT_FALSE(store().find_pat_by_hash(sha256_hex("by_second")))
      << "a refused redemption must not leave a token behind";
  reopen();
  EXPECT_FALSE(store().redeem_bootstrap(burn, second)) << "the burn survives a restart";
}

TEST_P(StoreConformanceTest, ConcurrentBootstrapRedemptionsHaveOneWinner) {
  store().record_login("root", "", "", "admin", "2026-03-01T00:00:00Z");
  auto burn = token_row("root", "bootstrap-redeemed", "boot-secret", true);
  std::atomic<int> winners{0};
  std::vector<std::thread> threads;
  for (int i = 0; i < 8; ++i) {
    threads.emplace_back([&, i] {
      if (store().redeem_bootstrap(burn, token_row("root", "bootstrap", "by_" + std::to_string(i))))
        ++winners;
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(winners.load(), 1);
  EXPECT_EQ(store().list_pats("root").size(), 1u) << "one live token, no orphans";
}

// ---- Grants ----

TEST_P(StoreConformanceTest, GrantsAreListedUsersFirstAndUpserted) {
  App app = store().create_app("sales", "owner-sub", kNow);
  store().grant_access(grant(app.id, "zoe", "user", "viewer"));
  store().grant_access(grant(app.id, "analysts", "group", "collaborator"));
  store().grant_access(grant(app.id, "adam", "user", "viewer"));

  auto grants = store().list_access(app.id);
  ASSERT_EQ(grants.size(), 3u);
  EXPECT_EQ(grants[0].principal, "adam");
  EXPECT_EQ(grants[1].principal, "zoe");
  EXPECT_EQ(grants[2].principal, "analysts");
  EXPECT_EQ(grants[2].kind, "group");
  EXPECT_EQ(grants[2].role, "collaborator");
  EXPECT_EQ(grants[2].granted_by, "owner-sub");

  AccessGrant changed = grant(app.id, "zoe", "user", "collaborator");
  changed.granted_by = "someone-else";
  changed.granted_at = "2026-02-01T00:00:00Z";
  store().grant_access(changed);
  grants = store().list_access(app.id);
  ASSERT_EQ(grants.size(), 3u) << "re-granting replaces, never duplicates";
  EXPECT_EQ(grants[1].role, "collaborator");
  EXPECT_EQ(grants[1].granted_by, "someone-else");
  EXPECT_EQ(grants[1].granted_at, "2026-02-01T00:00:00Z");
}

TEST_P(StoreConformanceTest, UserAndGroupGrantsOfTheSameNameAreDistinct) {
  App app = store().create_app("sales", "owner-sub", kNow);
  store().grant_access(grant(app.id, "ops", "user", "viewer"));
  store().grant_access(grant(app.id, "ops", "group", "collaborator"));
  EXPECT_EQ(store().list_access(app.id).size(), 2u);
  EXPECT_TRUE(store().revoke_access(app.id, "group", "ops"));
  auto grants = store().list_access(app.id);
  ASSERT_EQ(grants.size(), 1u);
  EXPECT_EQ(grants[0].kind, "user");
  EXPECT_FALSE(store().revoke_access(app.id, "group", "ops")) << "already gone";
}

TEST_P(StoreConformanceTest, GrantNeedsAnAppAndGoesWithIt) {
  EXPECT_EQ(error_of([&] { store().grant_access(grant(uuid_v4(), "x", "user", "viewer")); }),
            kNotFound);
  App app = store().create_app("sales", "owner-sub", kNow);
  store().grant_access(grant(app.id, "x", "user", "viewer"));
  store().delete_app(app.id);
  EXPECT_THAT(store().list_access(app.id), IsEmpty());
}

TEST_P(StoreConformanceTest, GrantRejectsUnknownKindsAndRoles) {
  App app = store().create_app("sales", "owner-sub", kNow);
  EXPECT_THROW(store().grant_access(grant(app.id, "x", "team", "viewer")), std::runtime_error);
  EXPECT_THROW(store().grant_access(grant(app.id, "x", "user", "owner")), std::runtime_error);
  EXPECT_THAT(store().list_access(app.id), IsEmpty());
}

TEST_P(StoreConformanceTest, ListAppsShowsAppsGrantedToTheViewerOrTheirGroups) {
  App mine = store().create_app("mine", "alice", kNow);
  App user_grant = store().create_app("granted-to-alice", "bob", kNow);
  App group_grant = store().create_app("granted-to-analysts", "bob", kNow);
  App other_group = store().create_app("granted-to-finance", "bob", kNow);
  App hidden = store().create_app("hidden", "bob", kNow);
  store().grant_access(grant(user_grant.id, "alice", "user", "viewer"));
  store().grant_access(grant(group_grant.id, "analysts", "group", "viewer"));
  store().grant_access(grant(other_group.id, "finance", "group", "viewer"));
  // A group grant named like alice's sub is not a grant to alice.
  store().grant_access(grant(hidden.id, "alice", "group", "viewer"));

  AppListQuery query;
  query.visible_to = Viewer{"alice", {"analysts", "it's \"quoted\""}};
  auto result = store().list_apps(query);
  EXPECT_EQ(result.total, 3);
  EXPECT_THAT(names_of(result.apps),
              UnorderedElementsAre("mine", "granted-to-alice", "granted-to-analysts"));

  query.visible_to = Viewer{"alice", {}};
  EXPECT_THAT(names_of(store().list_apps(query).apps),
              UnorderedElementsAre("mine", "granted-to-alice"));
  (void)mine;
}

// ---- Browser sessions ----

TEST_P(StoreConformanceTest, SessionRoundTripsEveryField) {
  store().record_login("alice", "", "", "viewer", "2026-01-01T00:00:00Z");
  UserSession s = session_for("alice", sha256_hex("sid-1"));
  store().create_session(s);
  auto got = store().get_session(s.id);
  ASSERT_TRUE(got);
  EXPECT_EQ(got->sub, "alice");
  EXPECT_THAT(got->groups, ElementsAre("data-team", "finance"));
  EXPECT_EQ(got->access_token, "access-1");
  EXPECT_EQ(got->refresh_token, "refresh-1");
  EXPECT_EQ(got->id_token, "id-token-1");
  EXPECT_EQ(got->token_expires_at, "2026-01-01T01:00:00Z");
  EXPECT_EQ(got->created_at, "2026-01-01T00:00:00Z");
  EXPECT_EQ(got->expires_at, "2026-01-02T00:00:00Z");
  EXPECT_FALSE(store().get_session(sha256_hex("other")));
  EXPECT_EQ(error_of([&] { store().create_session(s); }), kConflict);
  EXPECT_EQ(error_of([&] { store().create_session(session_for("ghost", "x")); }), kNotFound);
}

TEST_P(StoreConformanceTest, SessionsOfOneUserAreIndependent) {
  store().record_login("alice", "", "", "viewer", "2026-01-01T00:00:00Z");
  store().create_session(session_for("alice", "laptop"));
  store().create_session(session_for("alice", "phone"));
  EXPECT_TRUE(store().delete_session("laptop"));
  EXPECT_FALSE(store().get_session("laptop"));
  EXPECT_TRUE(store().get_session("phone")) << "signing out one browser keeps the other";
  EXPECT_FALSE(store().delete_session("laptop"));
}

TEST_P(StoreConformanceTest, UpdateSessionTokensKeepsRefreshTokenWhenNoneIsGiven) {
  store().record_login("alice", "", "", "viewer", "2026-01-01T00:00:00Z");
  store().create_session(session_for("alice", "s"));
  EXPECT_TRUE(store().update_session_tokens("s", "access-2", "", "2026-01-01T02:00:00Z"));
  auto got = store().get_session("s");
  EXPECT_EQ(got->access_token, "access-2");
  EXPECT_EQ(got->refresh_token, "refresh-1");
  EXPECT_EQ(got->token_expires_at, "2026-01-01T02:00:00Z");
  EXPECT_TRUE(store().update_session_tokens("s", "access-3", "refresh-2", "2026-01-01T03:00:00Z"));
  EXPECT_EQ(store().get_session("s")->refresh_token, "refresh-2");
  EXPECT_FALSE(store().update_session_tokens("gone", "a", "r", "2026-01-01T03:00:00Z"));
}

TEST_P(StoreConformanceTest, DeleteUserSessionsAndExpiredSessions) {
  store().record_login("alice", "", "", "viewer", "2026-01-01T00:00:00Z");
  store().record_login("bob", "", "", "viewer", "2026-01-01T00:00:00Z");
  store().create_session(session_for("alice", "a1", "2026-01-02T00:00:00Z"));
  store().create_session(session_for("alice", "a2", "2026-01-03T00:00:00Z"));
  store().create_session(session_for("bob", "b1", "2026-01-02T00:00:00Z"));
  store().create_session(session_for("bob", "b2", "2026-01-05T00:00:00Z"));

  EXPECT_EQ(store().delete_user_sessions("alice"), 2);
  EXPECT_FALSE(store().get_session("a2"));
  EXPECT_THAT(store().delete_expired_sessions("2026-01-02T00:00:00Z"), ElementsAre("b1"));
  EXPECT_FALSE(store().get_session("b1"));
  EXPECT_TRUE(store().get_session("b2"));
}

}  // namespace
}  // namespace blockyard::store::testing
