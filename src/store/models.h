// Rows of the control-plane database. Timestamps are RFC 3339 UTC strings
// with second precision ("2026-03-26T11:00:00Z"), as the API returns them.
#pragma once

#include <optional>
#include <string>
#include <vector>

namespace blockyard::store {

struct User {
  std::string sub;
  std::string email;
  std::string name;
  std::string role = "viewer";  // admin | publisher | viewer
  bool active = true;
  std::optional<std::string> last_login;
};

struct PersonalAccessToken {
  std::string id;
  std::string user_sub;
  std::string name;
  std::string token_hash;  // SHA-256 hex of the plaintext; plaintext is never stored
  std::string created_at;
  std::optional<std::string> expires_at;
  std::optional<std::string> last_used_at;
  bool revoked = false;
};

// A per-app grant: a user (principal = sub) or an IdP group (principal =
// group name) gets a content role on one app.
struct AccessGrant {
  std::string app_id;
  std::string principal;
  std::string kind = "user";    // user | group
  std::string role = "viewer";  // viewer | collaborator
  std::string granted_by;
  std::string granted_at;
};

// A browser sign-in: what the session cookie refers to. `id` is the SHA-256
// (hex) of the random session identifier in the cookie, so the database
// never holds a usable cookie value. The IdP's tokens are kept to refresh
// the sign-in and to end it at the IdP.
struct UserSession {
  std::string id;
  std::string sub;
  std::vector<std::string> groups;  // IdP groups at sign-in ([oidc] groups_claim)
  std::string access_token;
  std::string refresh_token;     // "" when the IdP issued none
  std::string id_token;          // for RP-initiated logout (id_token_hint)
  std::string token_expires_at;  // when the access token expires
  std::string created_at;
  std::string expires_at;  // the sign-in ends here whatever the IdP says (cookie_max_age)
};

struct App {
  std::string id;
  std::string name;
  std::string owner;
  std::string access_type = "acl";  // acl | logged_in | public
  std::optional<std::string> active_bundle;
  std::optional<int> max_workers_per_app;
  int max_sessions_per_worker = 1;
  std::optional<std::string> memory_limit;
  std::optional<double> cpu_limit;
  std::optional<std::string> title;
  std::optional<std::string> description;
  int pre_warmed_sessions = 0;
  bool enabled = true;
  std::string refresh_schedule;
  std::string image;
  std::string runtime;
  std::string created_at;
  std::string updated_at;
  std::optional<std::string> deleted_at;  // soft delete
};

// The settings of an app a caller may change (Store::update_app). A field
// left empty is not written. For nullable columns the outer optional says
// "write", the inner one the value (std::nullopt clears the column).
struct AppUpdate {
  std::optional<std::string> owner;
  std::optional<std::string> access_type;
  std::optional<std::optional<int>> max_workers_per_app;
  std::optional<int> max_sessions_per_worker;
  std::optional<std::optional<std::string>> memory_limit;
  std::optional<std::optional<double>> cpu_limit;
  std::optional<std::optional<std::string>> title;
  std::optional<std::optional<std::string>> description;
  std::optional<int> pre_warmed_sessions;
  std::optional<bool> enabled;
  std::optional<std::string> refresh_schedule;
  std::optional<std::string> image;
  std::optional<std::string> runtime;
};

// A former app name kept after a rename. While `phase` is "alias" the old
// name serves the app as before; in "redirect" the proxy answers 301 to the
// current name. `expires_at` ends the current phase.
struct AppAlias {
  std::string name;
  std::string app_id;
  std::string phase;  // alias | redirect
  std::string expires_at;
};

struct Bundle {
  std::string id;
  std::string app_id;
  std::string status = "pending";  // pending | building | ready | failed
  std::string uploaded_at;
  std::optional<std::string> deployed_by;
  std::optional<std::string> deployed_at;
  bool pinned = false;
  std::optional<std::string> error;  // why it failed, shown by the CLI
};

}  // namespace blockyard::store
