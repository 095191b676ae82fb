// Conformance suite for store::Store; see store_conformance.h. Instantiated
// per implementation (sqlite_store_test.cc for SQLite).
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <thread>

#include "core/crypto.h"
#include "store/store_conformance.h"
#include "store/timestamp.h"

namespace blockyard::store::testing {
namespace {

using ::testing::ElementsAre;
using ::testing::IsEmpty;
using ::testing::UnorderedElementsAre;

User make_user(const std::string& sub, const std::string& role = "viewer") {
  User user;
  user.sub = sub;
  user.email = sub + "@example.org";
  user.name = "Name of " + sub;
  user.role = role;
  return user;
}

PersonalAccessToken make_pat(const std::string& user_sub, const std::string& name,
                             const std::string& created_at = "2026-01-01T00:00:00Z") {
  PersonalAccessToken pat;
  pat.id = uuid_v4();
  pat.user_sub = user_sub;
  pat.name = name;
  pat.token_hash = sha256_hex(pat.id);
  pat.created_at = created_at;
  return pat;
}

Bundle make_bundle(const std::string& app_id, const std::string& uploaded_at) {
  Bundle bundle;
  bundle.id = uuid_v4();
  bundle.app_id = app_id;
  bundle.uploaded_at = uploaded_at;
  return bundle;
}

std::vector<std::string> names_of(const std::vector<App>& apps) {
  std::vector<std::string> names;
  for (const auto& app : apps) names.push_back(app.name);
  return names;
}

std::vector<std::string> ids_of(const std::vector<Bundle>& bundles) {
  std::vector<std::string> ids;
  for (const auto& bundle : bundles) ids.push_back(bundle.id);
  return ids;
}

// What every test passes as the current time: the store never reads a clock.
const std::string kNow = "2026-03-01T12:00:00Z";

// Writes what `change` sets on an AppUpdate to app `id`.
template <typename Change>
App update(Store& store, const std::string& id, Change&& change) {
  AppUpdate fields;
  change(fields);
  return store.update_app(id, fields, kNow);
}

AppUpdate enabled_update(bool enabled) {
  AppUpdate update;
  update.enabled = enabled;
  return update;
}

// ---- Users ----

TEST_P(StoreConformanceTest, PingSucceeds) {
  EXPECT_NO_THROW(store().ping());
}

TEST_P(StoreConformanceTest, ChangeCountGrowsWithWritesAndNotWithReads) {
  const std::uint64_t start = store().change_count();
  App app = store().create_app("sales", "alice", kNow);
  const std::uint64_t created = store().change_count();
  EXPECT_GT(created, start);

  store().get_app(app.id);
  store().get_app_by_name("sales");
  store().find_alias("sales", "2026-01-01T00:00:00Z");
  EXPECT_EQ(store().change_count(), created) << "reads must not look like writes";

  store().update_app(app.id, enabled_update(false), kNow);
  const std::uint64_t updated = store().change_count();
  EXPECT_GT(updated, created);
  store().rename_app(app.id, "sales-2", "2026-01-01T00:00:00Z");
  EXPECT_GT(store().change_count(), updated);
}

TEST_P(StoreConformanceTest, UpsertUserInsertsThenReplacesEveryField) {
  User user = make_user("alice");
  user.last_login = "2026-02-01T10:00:00Z";
  store().upsert_user(user);

  auto got = store().get_user("alice");
  ASSERT_TRUE(got);
  EXPECT_EQ(got->email, "alice@example.org");
  EXPECT_EQ(got->name, "Name of alice");
  EXPECT_EQ(got->role, "viewer");
  EXPECT_TRUE(got->active);
  EXPECT_EQ(got->last_login, "2026-02-01T10:00:00Z");

  user.email = "new@example.org";
  user.role = "publisher";
  user.active = false;
  store().upsert_user(user);
  got = store().get_user("alice");
  ASSERT_TRUE(got);
  EXPECT_EQ(got->email, "new@example.org");
  EXPECT_EQ(got->role, "publisher");
  EXPECT_FALSE(got->active);
  EXPECT_EQ(store().list_users().size(), 1u);
}

TEST_P(StoreConformanceTest, UnknownUserIsEmpty) {
  EXPECT_FALSE(store().get_user("nobody"));
}

TEST_P(StoreConformanceTest, ListUsersMostRecentLoginFirstNeverLoggedInLast) {
  User never = make_user("never");
  User old_login = make_user("old");
  old_login.last_login = "2026-01-01T00:00:00Z";
  User recent = make_user("recent");
  recent.last_login = "2026-03-01T00:00:00Z";
  store().upsert_user(never);
  store().upsert_user(old_login);
  store().upsert_user(recent);

  std::vector<std::string> subs;
  for (const auto& user : store().list_users()) subs.push_back(user.sub);
  EXPECT_THAT(subs, ElementsAre("recent", "old", "never"));
}

// ---- Personal access tokens ----

TEST_P(StoreConformanceTest, PatIsFoundByHashWithAllFields) {
  store().upsert_user(make_user("alice"));
  PersonalAccessToken pat = make_pat("alice", "laptop");
  pat.expires_at = "2027-01-01T00:00:00Z";
  store().create_pat(pat);

  auto got = store().find_pat_by_hash(pat.token_hash);
  ASSERT_TRUE(got);
  EXPECT_EQ(got->id, pat.id);
  EXPECT_EQ(got->user_sub, "alice");
  EXPECT_EQ(got->name, "laptop");
  EXPECT_EQ(got->token_hash, pat.token_hash);
  EXPECT_EQ(got->created_at, "2026-01-01T00:00:00Z");
  EXPECT_EQ(got->expires_at, "2027-01-01T00:00:00Z");
  EXPECT_FALSE(got->last_used_at);
  EXPECT_FALSE(got->revoked);

  EXPECT_FALSE(store().find_pat_by_hash(sha256_hex("something else")));
}

TEST_P(StoreConformanceTest, PatHashIsUnique) {
  store().upsert_user(make_user("alice"));
  PersonalAccessToken first = make_pat("alice", "one");
  store().create_pat(first);
  PersonalAccessToken second = make_pat("alice", "two");
  second.token_hash = first.token_hash;
  EXPECT_EQ(error_of([&] { store().create_pat(second); }), kConflict);
}

TEST_P(StoreConformanceTest, PatNeedsAnExistingUser) {
  EXPECT_EQ(error_of([&] { store().create_pat(make_pat("ghost", "x")); }), kNotFound);
  EXPECT_FALSE(store().find_pat_by_hash(make_pat("ghost", "x").token_hash));
}

TEST_P(StoreConformanceTest, TimestampsComeFromTheCallerNeverTheClock) {
  store().upsert_user(make_user("alice"));
  PersonalAccessToken pat = make_pat("alice", "laptop", "");
  EXPECT_THROW(store().create_pat(pat), std::invalid_argument) << "created_at is required";
  App app = store().create_app("sales", "alice", "2001-02-03T04:05:06Z");
  EXPECT_EQ(store().get_app(app.id)->created_at, "2001-02-03T04:05:06Z");
  EXPECT_THROW(store().create_bundle(make_bundle(app.id, "")), std::invalid_argument)
      << "uploaded_at is required";
  ASSERT_TRUE(store().soft_delete_app(app.id, "2001-02-04T00:00:00Z"));
  EXPECT_EQ(store().restore_app(app.id, "2001-02-05T00:00:00Z").updated_at, "2001-02-05T00:00:00Z");
  EXPECT_EQ(store().get_app(app.id)->updated_at, "2001-02-05T00:00:00Z");
}

TEST_P(StoreConformanceTest, ListPatsIsOwnNonRevokedNewestFirst) {
  store().upsert_user(make_user("alice"));
  store().upsert_user(make_user("bob"));
  auto old_pat = make_pat("alice", "old", "2026-01-01T00:00:00Z");
  auto new_pat = make_pat("alice", "new", "2026-02-01T00:00:00Z");
  auto revoked = make_pat("alice", "revoked", "2026-03-01T00:00:00Z");
  auto bobs = make_pat("bob", "bobs", "2026-02-15T00:00:00Z");
  for (const auto& pat : {old_pat, new_pat, revoked, bobs}) store().create_pat(pat);
  ASSERT_TRUE(store().revoke_pat("alice", revoked.id));

  std::vector<std::string> names;
  for (const auto& pat : store().list_pats("alice")) names.push_back(pat.name);
  EXPECT_THAT(names, ElementsAre("new", "old"));
  EXPECT_THAT(store().list_pats("nobody"), IsEmpty());
}

TEST_P(StoreConformanceTest, RevokePatMatchesOwnerAndIdOnly) {
  store().upsert_user(make_user("alice"));
  store().upsert_user(make_user("bob"));
  auto pat = make_pat("alice", "laptop");
  store().create_pat(pat);

  EXPECT_FALSE(store().revoke_pat("bob", pat.id));
  EXPECT_FALSE(store().find_pat_by_hash(pat.token_hash)->revoked);
  EXPECT_FALSE(store().revoke_pat("alice", uuid_v4()));

  EXPECT_TRUE(store().revoke_pat("alice", pat.id));
  EXPECT_TRUE(store().find_pat_by_hash(pat.token_hash)->revoked);
  EXPECT_TRUE(store().revoke_pat("alice", pat.id)) << "re-revoking still matches the row";
}

TEST_P(StoreConformanceTest, TouchPatRecordsLastUse) {
  store().upsert_user(make_user("alice"));
  auto pat = make_pat("alice", "laptop");
  store().create_pat(pat);
  store().touch_pat(pat.id, "2026-05-05T05:05:05Z");
  EXPECT_EQ(store().find_pat_by_hash(pat.token_hash)->last_used_at, "2026-05-05T05:05:05Z");
}

// ---- Apps ----

TEST_P(StoreConformanceTest, CreateAppHasIdDefaultsAndTimestamps) {
  App app = store().create_app("sales", "alice", kNow);
  EXPECT_TRUE(is_uuid(app.id));
  EXPECT_EQ(app.name, "sales");
  EXPECT_EQ(app.owner, "alice");
  EXPECT_EQ(app.access_type, "acl");
  EXPECT_FALSE(app.active_bundle);
  EXPECT_EQ(app.max_sessions_per_worker, 1);
  EXPECT_TRUE(app.enabled);
  EXPECT_FALSE(app.created_at.empty());
  EXPECT_EQ(app.created_at, app.updated_at);

  auto by_id = store().get_app(app.id);
  ASSERT_TRUE(by_id);
  EXPECT_EQ(by_id->name, "sales");
  EXPECT_EQ(by_id->created_at, app.created_at);
  EXPECT_EQ(by_id->max_sessions_per_worker, 1);
  EXPECT_FALSE(by_id->deleted_at);
  auto by_name = store().get_app_by_name("sales");
  ASSERT_TRUE(by_name);
  EXPECT_EQ(by_name->id, app.id);

  EXPECT_FALSE(store().get_app(uuid_v4()));
  EXPECT_FALSE(store().get_app_by_name("other"));
  EXPECT_NE(store().create_app("other", "alice", kNow).id, app.id);
}

TEST_P(StoreConformanceTest, DuplicateLiveAppNameIsConflict) {
  store().create_app("sales", "alice", kNow);
  try {
    store().create_app("sales", "bob", kNow);
    FAIL() << "expected a conflict";
  } catch (const StoreError& e) {
    EXPECT_EQ(e.kind(), kConflict);
    EXPECT_STREQ(e.what(), "app name \"sales\" already exists");
  }
  EXPECT_EQ(store().list_apps({}).total, 1);
}

TEST_P(StoreConformanceTest, UpdateAppWritesEveryGivenFieldAndStampsNow) {
  App app = store().create_app("sales", "alice", kNow);
  EXPECT_EQ(app.created_at, kNow);
  EXPECT_EQ(app.updated_at, kNow);
  AppUpdate update;
  update.owner = "bob";
  update.access_type = "public";
  update.max_workers_per_app = 4;
  update.max_sessions_per_worker = 3;
  update.memory_limit = "2g";
  update.cpu_limit = 1.5;
  update.title = "Sales";
  update.description = "Quarterly numbers";
  update.pre_warmed_sessions = 2;
  update.enabled = false;
  update.refresh_schedule = "0 3 * * *";
  update.image = "rocker/r-ver";
  update.runtime = "runsc";
  const std::string later = "2026-04-02T08:30:00Z";
  App returned = store().update_app(app.id, update, later);

  auto got = store().get_app(app.id);
  ASSERT_TRUE(got);
  EXPECT_EQ(got->name, "sales");
  EXPECT_EQ(got->owner, "bob");
  EXPECT_EQ(got->access_type, "public");
  EXPECT_EQ(got->max_workers_per_app, 4);
  EXPECT_EQ(got->max_sessions_per_worker, 3);
  EXPECT_EQ(got->memory_limit, "2g");
  EXPECT_EQ(got->cpu_limit, 1.5);
  EXPECT_EQ(got->title, "Sales");
  EXPECT_EQ(got->description, "Quarterly numbers");
  EXPECT_EQ(got->pre_warmed_sessions, 2);
  EXPECT_FALSE(got->enabled);
  EXPECT_EQ(got->refresh_schedule, "0 3 * * *");
  EXPECT_EQ(got->image, "rocker/r-ver");
  EXPECT_EQ(got->runtime, "runsc");
  EXPECT_EQ(got->created_at, kNow);
  EXPECT_EQ(got->updated_at, later) << "updated_at is the caller's now";
  EXPECT_EQ(returned.owner, "bob") << "update_app returns the row as written";
  EXPECT_EQ(returned.updated_at, later);

  // Optional fields can be cleared again; fields not named stay.
  AppUpdate clear;
  clear.max_workers_per_app = std::optional<int>{};
  clear.memory_limit = std::optional<std::string>{};
  clear.cpu_limit = std::optional<double>{};
  clear.title = std::optional<std::string>{};
  store().update_app(app.id, clear, later);
  auto cleared = store().get_app(app.id);
  EXPECT_FALSE(cleared->max_workers_per_app);
  EXPECT_FALSE(cleared->memory_limit);
  EXPECT_FALSE(cleared->cpu_limit);
  EXPECT_FALSE(cleared->title);
  EXPECT_EQ(cleared->description, "Quarterly numbers");
  EXPECT_EQ(cleared->owner, "bob");
  EXPECT_EQ(cleared->pre_warmed_sessions, 2);
}

TEST_P(StoreConformanceTest, UpdateUnknownAppIsNotFound) {
  const std::string ghost = uuid_v4();
  EXPECT_EQ(error_of([&] { store().update_app(ghost, enabled_update(false), kNow); }), kNotFound);
  EXPECT_FALSE(store().get_app(ghost));
}

// A PATCH that read the app before a background activation must not put the
// old bundle back (or undo any other field it did not send).
TEST_P(StoreConformanceTest, UpdateAppNeverUndoesAConcurrentActivationOrRename) {
  App app = store().create_app("sales", "alice", kNow);
  Bundle bundle = make_bundle(app.id, kNow);
  store().create_bundle(bundle);
  AppUpdate patch;  // what a PATCH prepared from the row read above
  patch.title = "Sales";
  store().activate_bundle(app.id, bundle.id, kNow);
  store().rename_app(app.id, "sales-2", kNow);
  store().update_app(app.id, enabled_update(false), kNow);
  store().update_app(app.id, patch, kNow);
  auto got = store().get_app(app.id);
  ASSERT_TRUE(got);
  EXPECT_EQ(got->active_bundle, bundle.id);
  EXPECT_EQ(got->name, "sales-2");
  EXPECT_FALSE(got->enabled);
  EXPECT_EQ(got->title, "Sales");
}

// Two writers of different fields at once: neither loses its write.
TEST_P(StoreConformanceTest, ConcurrentFieldUpdatesAllLand) {
  App app = store().create_app("sales", "alice", kNow);
  std::vector<std::thread> writers;
  for (int t = 0; t < 4; ++t) {
    writers.emplace_back([&, t] {
      for (int i = 1; i <= 25; ++i) {
        update(store(), app.id, [&](AppUpdate& u) {
          if (t == 0) u.pre_warmed_sessions = i % 10;
          if (t == 1) u.max_sessions_per_worker = i;
          if (t == 2) u.title = "title " + std::to_string(i);
          if (t == 3) u.image = "image-" + std::to_string(i);
        });
      }
    });
  }
  for (auto& w : writers) w.join();
  auto got = store().get_app(app.id);
  ASSERT_TRUE(got);
  EXPECT_EQ(got->pre_warmed_sessions, 5);
  EXPECT_EQ(got->max_sessions_per_worker, 25);
  EXPECT_EQ(got->title, "title 25");
  EXPECT_EQ(got->image, "image-25");
}

// ---- Renames and aliases ----

// `now` moved by `offset`, in the store's format.
std::string shifted(const std::string& now, std::chrono::seconds offset) {
  return format_rfc3339(*parse_rfc3339(now) + offset);
}

TEST_P(StoreConformanceTest, RenameKeepsTheFormerNameAsAnAlias) {
  App app = store().create_app("old-name", "alice", kNow);
  std::string now = kNow;
  store().rename_app(app.id, "new-name", now);

  auto renamed = store().get_app_by_name("new-name");
  ASSERT_TRUE(renamed);
  EXPECT_EQ(renamed->id, app.id);
  EXPECT_FALSE(store().get_app_by_name("old-name"));
  auto alias = store().find_alias("old-name", now);
  ASSERT_TRUE(alias);
  EXPECT_EQ(alias->app_id, app.id);
  EXPECT_EQ(alias->phase, "alias");
  EXPECT_EQ(alias->expires_at, shifted(now, kAliasPhase));
  EXPECT_FALSE(store().find_alias("new-name", now));
  EXPECT_FALSE(store().find_alias("never-was", now));
}

TEST_P(StoreConformanceTest, AliasTurnsIntoRedirectThenDisappears) {
  App app = store().create_app("before", "alice", kNow);
  std::string now = kNow;
  store().rename_app(app.id, "after", now);

  std::string in_redirect = shifted(now, kAliasPhase + std::chrono::seconds(1));
  auto redirect = store().find_alias("before", in_redirect);
  ASSERT_TRUE(redirect);
  EXPECT_EQ(redirect->phase, "redirect");
  EXPECT_EQ(redirect->expires_at, shifted(now, kAliasPhase + kRedirectPhase));
  EXPECT_FALSE(store().find_alias("before", shifted(now, kAliasPhase + kRedirectPhase)));

  // Housekeeping persists the same transitions.
  EXPECT_EQ(store().expire_aliases(now), 0);
  EXPECT_EQ(store().expire_aliases(in_redirect), 1);
  auto stored = store().find_alias("before", now);  // now reads the stored row
  ASSERT_TRUE(stored);
  EXPECT_EQ(stored->phase, "redirect");
  std::string after_all = shifted(now, kAliasPhase + kRedirectPhase + std::chrono::seconds(1));
  EXPECT_EQ(store().expire_aliases(after_all), 1);
  EXPECT_FALSE(store().find_alias("before", now));
}

TEST_P(StoreConformanceTest, RenameOntoLiveNameOrForeignAliasIsConflict) {
  App a = store().create_app("app-a", "alice", kNow);
  App b = store().create_app("app-b", "bob", kNow);
  std::string now = kNow;
  EXPECT_EQ(error_of([&] { store().rename_app(a.id, "app-b", now); }), kConflict);

  store().rename_app(a.id, "app-a2", now);  // "app-a" now serves a as an alias
  EXPECT_EQ(error_of([&] { store().rename_app(b.id, "app-a", now); }), kNameReserved);
  EXPECT_EQ(error_of([&] { store().create_app("app-a", "carol", now); }), kNameReserved);
  EXPECT_EQ(store().get_app(b.id)->name, "app-b");
  EXPECT_EQ(store().find_alias("app-a", now)->app_id, a.id);
  EXPECT_EQ(error_of([&] { store().rename_app(uuid_v4(), "app-z", now); }), kNotFound);
}

TEST_P(StoreConformanceTest, RenameBackReclaimsOwnAliasAndChainsKeepPointingAtTheApp) {
  App app = store().create_app("first", "alice", kNow);
  std::string now = kNow;
  store().rename_app(app.id, "second", now);
  store().rename_app(app.id, "third", now);
  EXPECT_EQ(store().find_alias("first", now)->app_id, app.id);
  EXPECT_EQ(store().find_alias("second", now)->app_id, app.id);

  store().rename_app(app.id, "first", now);
  EXPECT_EQ(store().get_app_by_name("first")->id, app.id);
  EXPECT_FALSE(store().find_alias("first", now));
  EXPECT_EQ(store().find_alias("third", now)->phase, "alias");

  store().rename_app(app.id, "first", now);  // same name: nothing changes
  EXPECT_EQ(store().get_app(app.id)->name, "first");
}

TEST_P(StoreConformanceTest, RenamesClearOutExpiredAliases) {
  App app = store().create_app("ancient", "alice", kNow);
  std::string long_ago = shifted(kNow, -(kAliasPhase + kRedirectPhase + std::chrono::hours(1)));
  store().rename_app(app.id, "middle", long_ago);
  std::string now = kNow;
  store().rename_app(app.id, "latest", now);
  // "ancient" was past both phases and went with the rename; "middle" stays.
  EXPECT_EQ(store().expire_aliases(now), 0);
  EXPECT_FALSE(store().find_alias("ancient", now));
  EXPECT_EQ(store().find_alias("middle", now)->phase, "alias");
}

TEST_P(StoreConformanceTest, ARedirectingNameCanBeTakenByANewApp) {
  App app = store().create_app("taken-later", "alice", kNow);
  // Renamed long enough ago that the alias phase is over.
  std::string then = shifted(kNow, -(kAliasPhase + std::chrono::seconds(60)));
  store().rename_app(app.id, "current", then);
  ASSERT_EQ(store().find_alias("taken-later", kNow)->phase, "redirect");

  App other = store().create_app("taken-later", "bob", kNow);
  EXPECT_EQ(store().get_app_by_name("taken-later")->id, other.id);
  EXPECT_FALSE(store().find_alias("taken-later", kNow));
}

TEST_P(StoreConformanceTest, AliasesOfDeletedAppsAreGone) {
  App soft = store().create_app("soft-old", "alice", kNow);
  App hard = store().create_app("hard-old", "alice", kNow);
  std::string now = kNow;
  store().rename_app(soft.id, "soft-new", now);
  store().rename_app(hard.id, "hard-new", now);

  ASSERT_TRUE(store().soft_delete_app(soft.id, now));
  EXPECT_FALSE(store().find_alias("soft-old", now));
  EXPECT_EQ(error_of([&] { store().rename_app(soft.id, "soft-x", now); }), kNotFound);
  store().delete_app(hard.id);
  EXPECT_FALSE(store().find_alias("hard-old", now));
  // The hard delete cascaded: the name is free again.
  EXPECT_EQ(store().create_app("hard-old", "bob", kNow).name, "hard-old");
}

TEST_P(StoreConformanceTest, ListAppsSearchesNameTitleDescriptionIgnoringCase) {
  App by_name = store().create_app("Sales-Dashboard", "alice", kNow);
  App by_title = store().create_app("alpha", "alice", kNow);
  update(store(), by_title.id, [](AppUpdate& u) { u.title = "Quarterly SALES"; });
  App by_description = store().create_app("beta", "alice", kNow);
  update(store(), by_description.id,
         [](AppUpdate& u) { u.description = "shows sales per region"; });
  store().create_app("unrelated", "alice", kNow);

  AppListQuery query;
  query.search = "sAlEs";
  auto result = store().list_apps(query);
  EXPECT_EQ(result.total, 3);
  EXPECT_THAT(names_of(result.apps), UnorderedElementsAre("Sales-Dashboard", "alpha", "beta"));

  query.search = "nothing-like-this";
  result = store().list_apps(query);
  EXPECT_EQ(result.total, 0);
  EXPECT_THAT(result.apps, IsEmpty());
}

TEST_P(StoreConformanceTest, ListAppsSearchTakesLikeMetacharactersLiterally) {
  App percent = store().create_app("hundred", "alice", kNow);
  update(store(), percent.id, [](AppUpdate& u) { u.title = "100% done"; });
  store().create_app("under_score", "alice", kNow);
  store().create_app("underXscore", "alice", kNow);
  App backslash = store().create_app("path", "alice", kNow);
  update(store(), backslash.id, [](AppUpdate& u) { u.description = "C:\\data"; });

  AppListQuery query;
  query.search = "%";
  EXPECT_THAT(names_of(store().list_apps(query).apps), ElementsAre("hundred"));
  query.search = "r_s";
  EXPECT_THAT(names_of(store().list_apps(query).apps), ElementsAre("under_score"));
  query.search = "\\";
  EXPECT_THAT(names_of(store().list_apps(query).apps), ElementsAre("path"));
}

TEST_P(StoreConformanceTest, ListAppsVisibilityOwnedOrLoggedInOrPublic) {
  store().create_app("alice-acl", "alice", kNow);
  store().create_app("bob-acl", "bob", kNow);
  App logged_in = store().create_app("bob-logged-in", "bob", kNow);
  update(store(), logged_in.id, [](AppUpdate& u) { u.access_type = "logged_in"; });
  App open = store().create_app("bob-public", "bob", kNow);
  update(store(), open.id, [](AppUpdate& u) { u.access_type = "public"; });

  AppListQuery query;
  query.visible_to = Viewer{"alice", {}};
  auto result = store().list_apps(query);
  EXPECT_EQ(result.total, 3);
  EXPECT_THAT(names_of(result.apps),
              UnorderedElementsAre("alice-acl", "bob-logged-in", "bob-public"));

  query.visible_to.reset();
  EXPECT_EQ(store().list_apps(query).total, 4) << "no visibility filter = every live app";
}

TEST_P(StoreConformanceTest, ListAppsPaginatesRecentlyUpdatedFirst) {
  std::vector<App> apps;
  for (const char* name : {"a", "b", "c", "d", "e"})
    apps.push_back(store().create_app(name, "x", kNow));
  // activate_bundle stamps updated_at with the given time: use it to set a
  // known order without waiting for the clock.
  const char* times[] = {"2030-01-05T00:00:00Z", "2030-01-01T00:00:00Z", "2030-01-04T00:00:00Z",
                         "2030-01-02T00:00:00Z", "2030-01-03T00:00:00Z"};
  for (std::size_t i = 0; i < apps.size(); ++i) {
    Bundle bundle = make_bundle(apps[i].id, "2026-01-01T00:00:00Z");
    store().create_bundle(bundle);
    store().activate_bundle(apps[i].id, bundle.id, times[i]);
  }

  AppListQuery query;
  query.per_page = 2;
  std::vector<std::string> seen;
  for (int page = 1; page <= 3; ++page) {
    query.page = page;
    auto result = store().list_apps(query);
    EXPECT_EQ(result.total, 5);
    EXPECT_EQ(result.apps.size(), page < 3 ? 2u : 1u);
    for (const auto& name : names_of(result.apps)) seen.push_back(name);
  }
  EXPECT_THAT(seen, ElementsAre("a", "c", "e", "d", "b"));

  query.page = 4;
  auto beyond = store().list_apps(query);
  EXPECT_EQ(beyond.total, 5);
  EXPECT_THAT(beyond.apps, IsEmpty());
}

TEST_P(StoreConformanceTest, DeleteAppRemovesItAndItsBundlesOnly) {
  App doomed = store().create_app("doomed", "alice", kNow);
  App kept = store().create_app("kept", "alice", kNow);
  Bundle doomed_bundle = make_bundle(doomed.id, "2026-01-01T00:00:00Z");
  Bundle kept_bundle = make_bundle(kept.id, "2026-01-01T00:00:00Z");
  store().create_bundle(doomed_bundle);
  store().create_bundle(kept_bundle);
  store().activate_bundle(doomed.id, doomed_bundle.id, "2026-01-01T00:01:00Z");

  store().delete_app(doomed.id);
  EXPECT_FALSE(store().get_app(doomed.id));
  EXPECT_FALSE(store().get_bundle(doomed_bundle.id));
  EXPECT_THAT(store().list_bundles(doomed.id), IsEmpty());
  EXPECT_TRUE(store().get_app(kept.id));
  EXPECT_TRUE(store().get_bundle(kept_bundle.id));
  EXPECT_NO_THROW(store().create_app("doomed", "bob", kNow)) << "the name is free again";
  EXPECT_NO_THROW(store().delete_app(uuid_v4())) << "deleting an unknown app is a no-op";
}

// ---- Soft delete ----

TEST_P(StoreConformanceTest, SoftDeleteHidesAppAndFreesItsName) {
  App app = store().create_app("sales", "alice", kNow);
  Bundle bundle = make_bundle(app.id, "2026-01-01T00:00:00Z");
  store().create_bundle(bundle);

  EXPECT_TRUE(store().soft_delete_app(app.id, "2030-01-01T00:00:00Z"));
  EXPECT_FALSE(store().get_app(app.id));
  EXPECT_FALSE(store().get_app_by_name("sales"));
  EXPECT_EQ(store().list_apps({}).total, 0);
  EXPECT_TRUE(store().get_bundle(bundle.id)) << "bundles stay until the purge";
  EXPECT_EQ(error_of([&] { store().update_app(app.id, enabled_update(false), kNow); }), kNotFound);

  EXPECT_FALSE(store().soft_delete_app(app.id, "2030-01-02T00:00:00Z")) << "already deleted";
  EXPECT_FALSE(store().soft_delete_app(uuid_v4(), "2030-01-02T00:00:00Z"));

  App reuse = store().create_app("sales", "bob", kNow);
  EXPECT_NE(reuse.id, app.id);
  auto deleted = store().list_deleted_apps(std::nullopt);
  ASSERT_EQ(deleted.size(), 1u);
  EXPECT_EQ(deleted[0].id, app.id);
  EXPECT_EQ(deleted[0].deleted_at, "2030-01-01T00:00:00Z");
}

TEST_P(StoreConformanceTest, RestoreBringsBackASoftDeletedApp) {
  App app = store().create_app("sales", "alice", kNow);
  ASSERT_TRUE(store().soft_delete_app(app.id, "2030-01-01T00:00:00Z"));

  App restored = store().restore_app(app.id, kNow);
  EXPECT_EQ(restored.id, app.id);
  EXPECT_EQ(restored.name, "sales");
  EXPECT_FALSE(restored.deleted_at);
  EXPECT_EQ(store().get_app_by_name("sales")->id, app.id);
  EXPECT_THAT(store().list_deleted_apps(std::nullopt), IsEmpty());

  EXPECT_EQ(error_of([&] { store().restore_app(app.id, kNow); }), kNotFound) << "not deleted";
  EXPECT_EQ(error_of([&] { store().restore_app(uuid_v4(), kNow); }), kNotFound);
}

TEST_P(StoreConformanceTest, RestoreIsRefusedWhenTheNameWasReused) {
  App app = store().create_app("sales", "alice", kNow);
  ASSERT_TRUE(store().soft_delete_app(app.id, "2030-01-01T00:00:00Z"));
  store().create_app("sales", "bob", kNow);

  EXPECT_EQ(error_of([&] { store().restore_app(app.id, kNow); }), kConflict);
  EXPECT_EQ(store().list_deleted_apps(std::nullopt).size(), 1u) << "still deleted";
  EXPECT_EQ(store().get_app_by_name("sales")->owner, "bob");
}

TEST_P(StoreConformanceTest, ListDeletedAppsNewestFirstWithCutoff) {
  App early = store().create_app("early", "x", kNow);
  App late = store().create_app("late", "x", kNow);
  store().create_app("live", "x", kNow);
  store().soft_delete_app(early.id, "2030-01-01T00:00:00Z");
  store().soft_delete_app(late.id, "2030-02-01T00:00:00Z");

  EXPECT_THAT(names_of(store().list_deleted_apps(std::nullopt)), ElementsAre("late", "early"));
  EXPECT_THAT(names_of(store().list_deleted_apps("2030-02-01T00:00:00Z")), ElementsAre("early"));
  EXPECT_THAT(store().list_deleted_apps("2030-01-01T00:00:00Z"), IsEmpty());

  store().delete_app(early.id);  // purge
  EXPECT_THAT(names_of(store().list_deleted_apps(std::nullopt)), ElementsAre("late"));
}

// ---- Bundles ----

TEST_P(StoreConformanceTest, CreateAndGetBundle) {
  App app = store().create_app("sales", "alice", kNow);
  Bundle bundle = make_bundle(app.id, "2026-01-01T00:00:00Z");
  bundle.deployed_by = "alice";
  bundle.pinned = true;
  store().create_bundle(bundle);

  auto got = store().get_bundle(bundle.id);
  ASSERT_TRUE(got);
  EXPECT_EQ(got->app_id, app.id);
  EXPECT_EQ(got->status, "pending");
  EXPECT_EQ(got->uploaded_at, "2026-01-01T00:00:00Z");
  EXPECT_EQ(got->deployed_by, "alice");
  EXPECT_FALSE(got->deployed_at);
  EXPECT_TRUE(got->pinned);
  EXPECT_FALSE(got->error);
  EXPECT_FALSE(store().get_bundle(uuid_v4()));
}

TEST_P(StoreConformanceTest, BundleNeedsAnExistingApp) {
  EXPECT_THROW(store().create_bundle(make_bundle(uuid_v4(), "2026-01-01T00:00:00Z")),
               std::runtime_error);
}

TEST_P(StoreConformanceTest, ListBundlesNewestUploadFirstThenLatestInserted) {
  App app = store().create_app("sales", "alice", kNow);
  App other = store().create_app("other", "alice", kNow);
  Bundle oldest = make_bundle(app.id, "2026-01-01T00:00:00Z");
  Bundle newest = make_bundle(app.id, "2026-03-01T00:00:00Z");
  Bundle middle_first = make_bundle(app.id, "2026-02-01T00:00:00Z");
  Bundle middle_second = make_bundle(app.id, "2026-02-01T00:00:00Z");
  for (const auto& bundle : {oldest, newest, middle_first, middle_second}) {
    store().create_bundle(bundle);
  }
  store().create_bundle(make_bundle(other.id, "2026-04-01T00:00:00Z"));

  EXPECT_THAT(ids_of(store().list_bundles(app.id)),
              ElementsAre(newest.id, middle_second.id, middle_first.id, oldest.id));
  EXPECT_THAT(store().list_bundles(uuid_v4()), IsEmpty());
}

TEST_P(StoreConformanceTest, SetBundleStatusRecordsAndClearsError) {
  App app = store().create_app("sales", "alice", kNow);
  Bundle bundle = make_bundle(app.id, "2026-01-01T00:00:00Z");
  store().create_bundle(bundle);

  store().set_bundle_status(bundle.id, "building", std::nullopt);
  EXPECT_EQ(store().get_bundle(bundle.id)->status, "building");
  store().set_bundle_status(bundle.id, "failed", "pak: package 'foo' not found");
  auto failed = store().get_bundle(bundle.id);
  EXPECT_EQ(failed->status, "failed");
  EXPECT_EQ(failed->error, "pak: package 'foo' not found");
  store().set_bundle_status(bundle.id, "building", std::nullopt);
  EXPECT_FALSE(store().get_bundle(bundle.id)->error);

  EXPECT_EQ(error_of([&] { store().set_bundle_status(uuid_v4(), "ready", std::nullopt); }),
            kNotFound);
}

TEST_P(StoreConformanceTest, ActivateBundleUpdatesBundleAndAppTogether) {
  App app = store().create_app("sales", "alice", kNow);
  Bundle first = make_bundle(app.id, "2026-01-01T00:00:00Z");
  Bundle second = make_bundle(app.id, "2026-01-02T00:00:00Z");
  store().create_bundle(first);
  store().create_bundle(second);
  store().set_bundle_status(second.id, "building", std::nullopt);

  store().activate_bundle(app.id, first.id, "2030-01-01T00:00:00Z");
  store().activate_bundle(app.id, second.id, "2030-01-02T00:00:00Z");

  auto got = store().get_bundle(second.id);
  EXPECT_EQ(got->status, "ready");
  EXPECT_EQ(got->deployed_at, "2030-01-02T00:00:00Z");
  auto got_app = store().get_app(app.id);
  EXPECT_EQ(got_app->active_bundle, second.id);
  EXPECT_EQ(got_app->updated_at, "2030-01-02T00:00:00Z");
  EXPECT_EQ(store().get_bundle(first.id)->deployed_at, "2030-01-01T00:00:00Z");
}

TEST_P(StoreConformanceTest, ActivateBundleOfAnotherAppChangesNothing) {
  App app = store().create_app("sales", "alice", kNow);
  App other = store().create_app("other", "alice", kNow);
  Bundle foreign = make_bundle(other.id, "2026-01-01T00:00:00Z");
  store().create_bundle(foreign);

  EXPECT_EQ(error_of([&] { store().activate_bundle(app.id, foreign.id, "2030-01-01T00:00:00Z"); }),
            kNotFound);
  EXPECT_EQ(error_of([&] { store().activate_bundle(app.id, uuid_v4(), "2030-01-01T00:00:00Z"); }),
            kNotFound);
  EXPECT_EQ(store().get_bundle(foreign.id)->status, "pending");
  EXPECT_FALSE(store().get_bundle(foreign.id)->deployed_at);
  EXPECT_FALSE(store().get_app(app.id)->active_bundle);
  EXPECT_FALSE(store().get_app(other.id)->active_bundle);
}

TEST_P(StoreConformanceTest, ActivateBundleOfSoftDeletedAppRollsBackTheBundle) {
  App app = store().create_app("sales", "alice", kNow);
  Bundle bundle = make_bundle(app.id, "2026-01-01T00:00:00Z");
  store().create_bundle(bundle);
  ASSERT_TRUE(store().soft_delete_app(app.id, "2026-01-01T00:01:00Z"));

  // The bundle update succeeds, the app update finds no live app: the whole
  // transaction must roll back.
  EXPECT_EQ(error_of([&] { store().activate_bundle(app.id, bundle.id, "2030-01-01T00:00:00Z"); }),
            kNotFound);
  auto got = store().get_bundle(bundle.id);
  EXPECT_EQ(got->status, "pending");
  EXPECT_FALSE(got->deployed_at);
}

TEST_P(StoreConformanceTest, FailInterruptedBundlesFailsOnlyUnfinishedOnes) {
  App app = store().create_app("sales", "alice", kNow);
  Bundle pending = make_bundle(app.id, "2026-01-01T00:00:00Z");
  Bundle building = make_bundle(app.id, "2026-01-02T00:00:00Z");
  Bundle ready = make_bundle(app.id, "2026-01-03T00:00:00Z");
  Bundle failed = make_bundle(app.id, "2026-01-04T00:00:00Z");
  for (const auto& bundle : {pending, building, ready, failed}) store().create_bundle(bundle);
  store().set_bundle_status(building.id, "building", std::nullopt);
  store().activate_bundle(app.id, ready.id, "2026-01-03T00:01:00Z");
  store().set_bundle_status(failed.id, "failed", "compile error");

  EXPECT_EQ(store().fail_interrupted_bundles(), 2);
  for (const auto& id : {pending.id, building.id}) {
    auto got = store().get_bundle(id);
    EXPECT_EQ(got->status, "failed");
    EXPECT_EQ(got->error, "interrupted by server restart");
  }
  EXPECT_EQ(store().get_bundle(ready.id)->status, "ready");
  EXPECT_FALSE(store().get_bundle(ready.id)->error);
  EXPECT_EQ(store().get_bundle(failed.id)->error, "compile error");
  EXPECT_EQ(store().fail_interrupted_bundles(), 0);
}

// ---- Persistence and concurrency ----

TEST_P(StoreConformanceTest, DataSurvivesReopen) {
  store().upsert_user(make_user("alice", "admin"));
  auto pat = make_pat("alice", "laptop");
  store().create_pat(pat);
  App app = store().create_app("sales", "alice", kNow);
  Bundle bundle = make_bundle(app.id, "2026-01-01T00:00:00Z");
  store().create_bundle(bundle);
  store().activate_bundle(app.id, bundle.id, "2026-01-01T00:01:00Z");

  reopen();
  EXPECT_EQ(store().get_user("alice")->role, "admin");
  EXPECT_EQ(store().find_pat_by_hash(pat.token_hash)->id, pat.id);
  EXPECT_EQ(store().get_app_by_name("sales")->active_bundle, bundle.id);
  EXPECT_EQ(store().get_bundle(bundle.id)->status, "ready");
  EXPECT_EQ(error_of([&] { store().create_app("sales", "bob", kNow); }), kConflict);
}

TEST_P(StoreConformanceTest, ConcurrentCallersAreSerialisedSafely) {
  constexpr int kThreads = 8;
  std::atomic<int> created{0}, conflicts{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      // Every thread races for "shared" and also creates its own app.
      try {
        store().create_app("shared", "user" + std::to_string(t), kNow);
        ++created;
      } catch (const StoreError& e) {
        if (e.kind() == kConflict) ++conflicts;
      }
      App own = store().create_app("own-" + std::to_string(t), "user", kNow);
      store().create_bundle(make_bundle(own.id, "2026-01-01T00:00:00Z"));
    });
  }
  for (auto& thread : threads) thread.join();
  EXPECT_EQ(created.load(), 1);
  EXPECT_EQ(conflicts.load(), kThreads - 1);
  AppListQuery own_apps;
  own_apps.search = "own-";
  EXPECT_EQ(store().list_apps(own_apps).total, kThreads);
}

}  // namespace
}  // namespace blockyard::store::testing
