// Store: the control plane's persistent state. SqliteStore is the embedded
// default; a Postgres implementation comes later and must pass the same
// conformance tests (store/store_conformance_test.cc).
//
// Thread safety: every method may be called from any thread.
// Failure: a refused write throws StoreError (store_error.h) whose kind says
// why (not_found, conflict, name_reserved); database errors throw
// std::runtime_error. A read that finds nothing returns an empty optional.
// Time: the store never reads the clock. Every timestamp it writes comes from
// the caller (a `now` argument or a field), in the format of timestamp.h.
#pragma once

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "store/models.h"
#include "store/store_error.h"
#include "store/timestamp.h"

namespace blockyard {
struct DatabaseConfig;
}

namespace blockyard::store {

// Who is looking, for visibility filters: a signed-in user and the IdP
// groups of their session.
struct Viewer {
  std::string sub;
  std::vector<std::string> groups;
};

struct AppListQuery {
  std::string search;  // substring of name/title/description, case-insensitive
  int page = 1;
  int per_page = 25;
  // Visibility: empty = all live apps (admin); otherwise apps this viewer
  // owns, apps with access_type logged_in/public, and apps with a grant to
  // the viewer's sub or to one of their groups.
  std::optional<Viewer> visible_to;
};

struct AppListResult {
  std::vector<App> apps;
  int total = 0;
};

struct DeploymentQuery {
  std::string search;  // substring of the app name, case-insensitive
  std::string status;  // exact bundle status; "" = any
  int page = 1;
  int per_page = 25;
  // Empty = every app (admin); otherwise apps this viewer may deploy to:
  // owned, or granted as collaborator to their sub or one of their groups.
  std::optional<Viewer> visible_to;
};

struct Deployment {
  std::string app_id;
  std::string app_name;
  std::string bundle_id;
  std::optional<std::string> deployed_by;
  std::optional<std::string> deployed_by_name;  // the user's display name, when known
  std::optional<std::string> deployed_at;
  std::string status;
};

struct DeploymentListResult {
  std::vector<Deployment> deployments;
  int total = 0;
};

class Store {
 public:
  virtual ~Store() = default;

  virtual void ping() = 0;

  // A number that grows with every row this process writes, in any table.
  // Lets read caches (the proxy's app lookup) tell cheaply, without a query,
  // whether what they read may be stale. Lock-free; callable from any
  // thread. Writes by other processes sharing the database are not counted.
  virtual std::uint64_t change_count() const = 0;

  // Users. upsert_user inserts, or overwrites every field of an existing row
  // (callers that must keep a stored role read it first). list_users: most
  // recent last_login first, never-logged-in users last.
  virtual void upsert_user(const User& user) = 0;
  virtual std::optional<User> get_user(const std::string& sub) = 0;
  virtual std::vector<User> list_users() = 0;
  // A sign-in: inserts the user with `role_if_new` and active, or updates
  // only email, name (each unless the new value is empty) and last_login of
  // an existing row (role and active are never touched here). One statement, so concurrent first
  // sign-ins of the same sub cannot both insert. Returns the row as stored.
  virtual User record_login(const std::string& sub, const std::string& email,
                            const std::string& name, const std::string& role_if_new,
                            const std::string& now) = 0;
  // Changes only the given fields; returns the updated row, or nullopt when
  // no user has that sub.
  virtual std::optional<User> update_user(const std::string& sub,
                                          const std::optional<std::string>& role,
                                          const std::optional<bool>& active) = 0;

  // Personal access tokens. create_pat: an empty id is generated; created_at
  // is required (std::invalid_argument when empty); a duplicate hash =>
  // conflict, an unknown user => not_found.
  // find_pat_by_hash returns the row in any state (revoked, expired).
  // list_pats: the user's non-revoked tokens, newest first. revoke_pat: true
  // when a row with that id belongs to that user (also if already revoked).
  virtual void create_pat(const PersonalAccessToken& pat) = 0;
  virtual std::optional<PersonalAccessToken> find_pat_by_hash(const std::string& hash) = 0;
  virtual std::vector<PersonalAccessToken> list_pats(const std::string& user_sub) = 0;
  virtual bool revoke_pat(const std::string& user_sub, const std::string& id) = 0;
  virtual void touch_pat(const std::string& id, const std::string& now) = 0;
  // Revokes every non-revoked token of the user; returns how many.
  virtual int revoke_all_pats(const std::string& user_sub) = 0;
  // The bootstrap exchange, in one transaction: inserts `burn` (a revoked
  // row whose token_hash is the bootstrap token's) and `pat`. Returns false,
  // and inserts nothing, when a row with burn's hash exists already (the
  // token was redeemed, by this process or an earlier one).
  virtual bool redeem_bootstrap(const PersonalAccessToken& burn,
                                const PersonalAccessToken& pat) = 0;

  // Per-app access grants (app_access). grant_access inserts or replaces the
  // role/granted_by/granted_at of (app, principal, kind); an unknown app =>
  // StoreError not_found ("app not found"). list_access: the app's grants,
  // users before groups, then by principal. revoke_access: true when a grant
  // was deleted. Grants go with their app when it is deleted.
  virtual void grant_access(const AccessGrant& grant) = 0;
  virtual std::vector<AccessGrant> list_access(const std::string& app_id) = 0;
  virtual bool revoke_access(const std::string& app_id, const std::string& kind,
                             const std::string& principal) = 0;

  // Browser sign-in sessions (see UserSession). create_session: duplicate id
  // => StoreError conflict, unknown user => StoreError not_found.
  // get_session returns the row whatever its expiry (callers compare).
  // update_session_tokens: after a refresh; an empty refresh_token keeps the
  // stored one; false when the session is gone. delete_user_sessions: every
  // session of the user (returns how many); delete_expired_sessions: those
  // whose expires_at is at or before `now` (returns their ids).
  virtual void create_session(const UserSession& session) = 0;
  virtual std::optional<UserSession> get_session(const std::string& id) = 0;
  virtual bool update_session_tokens(const std::string& id, const std::string& access_token,
                                     const std::string& refresh_token,
                                     const std::string& token_expires_at) = 0;
  virtual bool delete_session(const std::string& id) = 0;
  virtual int delete_user_sessions(const std::string& sub) = 0;
  virtual std::vector<std::string> delete_expired_sessions(const std::string& now) = 0;

  // Apps (live = not soft-deleted). create_app: created_at = updated_at =
  // now; a live name clash => conflict("app name \"<n>\" already exists"),
  // a name still serving a renamed app => name_reserved.
  // list_apps: updated_at descending, ties newest-created first; `total`
  // counts every match, not just the page; page < 1 is 1, per_page < 1 is 25.
  virtual App create_app(const std::string& name, const std::string& owner,
                         const std::string& now) = 0;
  virtual std::optional<App> get_app(const std::string& id) = 0;
  virtual std::optional<App> get_app_by_name(const std::string& name) = 0;
  virtual AppListResult list_apps(const AppListQuery& query) = 0;
  // Writes only the fields `update` sets (and updated_at = now), in one
  // statement, and returns the row as it is afterwards: writers of different
  // fields never undo each other. The name changes only through rename_app,
  // the active bundle only through activate_bundle. A missing or soft-deleted
  // app => not_found("app not found").
  virtual App update_app(const std::string& id, const AppUpdate& update,
                         const std::string& now) = 0;
  virtual void delete_app(const std::string& id) = 0;  // hard delete, cascades bundles
  // Soft delete (storage.soft_delete_retention > 0): stamps deleted_at and
  // updated_at, which hides the app from get/list and frees its name. Returns
  // false when no live app has that id. Bundles stay until delete_app.
  virtual bool soft_delete_app(const std::string& id, const std::string& now) = 0;
  // Makes a soft-deleted app live again (updated_at = now) and returns it.
  // Throws not_found("deleted app not found") when `id` is not a soft-deleted
  // app, conflict when a live app now holds its name, name_reserved when
  // another app's alias serves it.
  virtual App restore_app(const std::string& id, const std::string& now) = 0;
  // Soft-deleted apps, most recently deleted first; with `deleted_before`,
  // only those deleted strictly before it (the retention sweeper's query).
  virtual std::vector<App> list_deleted_apps(const std::optional<std::string>& deleted_before) = 0;

  // Renames (app_aliases). rename_app, in one transaction: gives live app
  // `id` the name `new_name` and keeps its former name as an alias (phase
  // "alias" until now + kAliasPhase). Throws not_found("app not found") for
  // a missing/soft-deleted app, conflict when another live app has the name
  // ("name already in use"), name_reserved when another app's alias still
  // serves it ("... reserved as an alias ..."). Renaming to the current
  // name is a no-op; renaming back to one of the app's own aliases reclaims
  // it. A redirect-phase alias of another app gives way (the live name wins).
  // create_app and restore_app refuse alias-phase names the same way.
  virtual void rename_app(const std::string& id, const std::string& new_name,
                          const std::string& now) = 0;
  // The alias `name` as it stands at `now`: an "alias" row past its expiry
  // reads as "redirect" (expiry + kRedirectPhase), an expired "redirect" as
  // absent; aliases of soft-deleted apps are absent. Read-only.
  virtual std::optional<AppAlias> find_alias(const std::string& name, const std::string& now) = 0;
  // Housekeeping: moves expired "alias" rows to "redirect" and deletes
  // expired "redirect" rows. Returns the number of rows changed. Readers
  // never depend on it (find_alias computes the phase); rename_app runs it.
  virtual int expire_aliases(const std::string& now) = 0;

  // Bundles. create_bundle: id and uploaded_at required
  // (std::invalid_argument when empty); an unknown app => not_found("app not
  // found"), an existing id => conflict. list_bundles: uploaded_at
  // descending, ties latest-inserted first. set_bundle_status on an unknown
  // bundle => not_found("bundle not found").
  virtual void create_bundle(const Bundle& bundle) = 0;
  virtual std::optional<Bundle> get_bundle(const std::string& id) = 0;
  virtual std::vector<Bundle> list_bundles(const std::string& app_id) = 0;  // newest first
  virtual void set_bundle_status(const std::string& id, const std::string& status,
                                 const std::optional<std::string>& error) = 0;
  // Marks the bundle ready, stamps deployed_at, clears its error, and makes it
  // the app's active bundle (app.updated_at = now), in one transaction. A
  // bundle not belonging to the app, or a missing/soft-deleted app =>
  // not_found and nothing changes.
  virtual void activate_bundle(const std::string& app_id, const std::string& bundle_id,
                               const std::string& now) = 0;
  // On start-up: bundles left pending/building by a crash become failed with
  // error "interrupted by server restart". Returns how many.
  virtual int fail_interrupted_bundles() = 0;
  // Rollback: makes `bundle_id` (ready, of this live app) the active bundle
  // again and stamps its deployed_at / deployed_by, in one transaction.
  // StoreError not_found when the bundle is not the app's or the app is gone.
  virtual void reactivate_bundle(const std::string& app_id, const std::string& bundle_id,
                                 const std::optional<std::string>& deployed_by,
                                 const std::string& now) = 0;
  // Deletes one bundle row (an app whose active bundle it was gets none).
  // Returns false when there was no such bundle.
  virtual bool delete_bundle(const std::string& id) = 0;
  // The app with this id, live or soft-deleted; else, by name, the most
  // recently deleted app of that name, else the live one (purge and restore
  // address deleted apps).
  virtual std::optional<App> find_app_including_deleted(const std::string& id_or_name) = 0;
  // Bundles ever deployed (deployed_at set) of live apps, newest deployment
  // first; `total` counts every match.
  virtual DeploymentListResult list_deployments(const DeploymentQuery& query) = 0;
};

// How long a former name serves the app, then how long it redirects.
inline constexpr std::chrono::seconds kAliasPhase{2 * 3600};
inline constexpr std::chrono::seconds kRedirectPhase{7 * 24 * 3600};

// Opens (creating if needed) the SQLite database at `path` and applies the
// schema migrations.
std::unique_ptr<Store> open_sqlite_store(const std::filesystem::path& path);

// Opens the store [database] configures. Throws std::runtime_error naming the
// key when the configured driver is not one this build can open (only
// "sqlite" is: "postgres" is refused rather than quietly served by SQLite).
std::unique_ptr<Store> open_store(const DatabaseConfig& config);
// open_store()'s check alone: throws the same refusal, opens nothing.
void require_supported_driver(const DatabaseConfig& config);

}  // namespace blockyard::store
