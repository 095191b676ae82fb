// Store: the control plane's persistent state. SqliteStore is the embedded
// default; a Postgres implementation comes later and must pass the same
// conformance tests (store/store_conformance_test.cc).
//
// Thread safety: every method may be called from any thread.
// Failure: database errors throw std::runtime_error; "not found" is an empty
// optional, never an exception; uniqueness violations throw ApiError::conflict.
#pragma once

#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "store/models.h"

namespace blockyard::store {

struct AppListQuery {
  std::string search;  // substring of name/title/description, case-insensitive
  int page = 1;
  int per_page = 25;
  // Visibility: empty = all live apps (admin); otherwise apps owned by this sub
  // or with access_type logged_in/public.
  std::optional<std::string> visible_to;
};

struct AppListResult {
  std::vector<App> apps;
  int total = 0;
};

class Store {
 public:
  virtual ~Store() = default;

  virtual void ping() = 0;

  // Users
  virtual void upsert_user(const User& user) = 0;
  virtual std::optional<User> get_user(const std::string& sub) = 0;
  virtual std::vector<User> list_users() = 0;

  // Personal access tokens
  virtual void create_pat(const PersonalAccessToken& pat) = 0;
  virtual std::optional<PersonalAccessToken> find_pat_by_hash(const std::string& hash) = 0;
  virtual std::vector<PersonalAccessToken> list_pats(const std::string& user_sub) = 0;
  virtual bool revoke_pat(const std::string& user_sub, const std::string& id) = 0;
  virtual void touch_pat(const std::string& id, const std::string& now) = 0;

  // Apps (live = not soft-deleted)
  virtual App create_app(const std::string& name, const std::string& owner) = 0;
  virtual std::optional<App> get_app(const std::string& id) = 0;
  virtual std::optional<App> get_app_by_name(const std::string& name) = 0;
  virtual AppListResult list_apps(const AppListQuery& query) = 0;
  virtual void update_app(const App& app) = 0;  // writes every mutable field, bumps updated_at
  virtual void delete_app(const std::string& id) = 0;  // hard delete, cascades bundles

  // Bundles
  virtual void create_bundle(const Bundle& bundle) = 0;
  virtual std::optional<Bundle> get_bundle(const std::string& id) = 0;
  virtual std::vector<Bundle> list_bundles(const std::string& app_id) = 0;  // newest first
  virtual void set_bundle_status(const std::string& id, const std::string& status,
                                 const std::optional<std::string>& error) = 0;
  // Marks the bundle ready, stamps deployed_at, and makes it the app's active
  // bundle, in one transaction.
  virtual void activate_bundle(const std::string& app_id, const std::string& bundle_id,
                               const std::string& now) = 0;
  // On start-up: bundles left pending/building by a crash become failed.
  virtual int fail_interrupted_bundles() = 0;
};

// Opens (creating if needed) the SQLite database at `path` and applies the
// schema migrations.
std::unique_ptr<Store> open_sqlite_store(const std::filesystem::path& path);

// Current time in the store's timestamp format.
std::string now_rfc3339();

}  // namespace blockyard::store
