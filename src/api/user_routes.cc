// /api/v1/users/me[/tokens] and the admin user endpoints.
#include <algorithm>

#include <nlohmann/json.hpp>

#include "api/json_views.h"
#include "api/route_helpers.h"
#include "api/routes.h"
#include "auth/pat.h"
#include "core/crypto.h"
#include "core/error.h"

namespace blockyard::api {

using nlohmann::json;

namespace {

http::Response me(ApiContext& ctx, http::Request&, const Caller& caller) {
  if (auto user = ctx.store.get_user(caller.sub)) {
    return json_response(200, json{{"sub", user->sub},
                                   {"email", user->email},
                                   {"name", user->name},
                                   {"role", user->role}});
  }
  return json_response(200,
                       json{{"sub", caller.sub}, {"name", caller.name}, {"role", caller.role}});
}

// The original mints tokens only for browser sessions, so that a leaked PAT
// cannot breed more. This server has no browser login yet (no OIDC), so a PAT
// caller may create tokens for itself; otherwise the CLI could never get a
// second token or rotate the first one.
http::Response create_token(ApiContext& ctx, http::Request& req, const Caller& caller) {
  json body = parse_json_body(req);
  auto name_it = body.find("name");
  if (name_it == body.end() || !name_it->is_string() || name_it->get<std::string>().empty()) {
    throw ApiError::bad_request("name is required");
  }
  std::optional<std::string> expires_at;
  if (auto it = body.find("expires_in"); it != body.end() && !it->is_null()) {
    if (!it->is_string()) throw ApiError::bad_request("expires_in must be a string");
    if (!it->get<std::string>().empty()) expires_at = auth::expiry_from_now(it->get<std::string>());
  }
  std::string token =
      auth::issue_pat(ctx.store, caller.sub, name_it->get<std::string>(), expires_at);
  auto pat = ctx.store.find_pat_by_hash(sha256_hex(token));
  if (!pat) throw std::runtime_error("issued token not found in the store");
  return json_response(
      201, json{{"id", pat->id},
                {"name", pat->name},
                {"token", token},
                {"created_at", pat->created_at},
                {"expires_at", pat->expires_at ? json(*pat->expires_at) : json(nullptr)}});
}

std::vector<store::PersonalAccessToken> live_tokens(ApiContext& ctx, const std::string& sub) {
  auto pats = ctx.store.list_pats(sub);
  std::erase_if(pats, [](const auto& p) { return p.revoked; });
  std::stable_sort(pats.begin(), pats.end(),
                   [](const auto& a, const auto& b) { return a.created_at > b.created_at; });
  return pats;
}

http::Response list_tokens(ApiContext& ctx, http::Request&, const Caller& caller) {
  json out = json::array();
  for (const auto& pat : live_tokens(ctx, caller.sub)) out.push_back(pat_json(pat));
  return json_response(200, out);
}

http::Response revoke_token(ApiContext& ctx, http::Request& req, const Caller& caller) {
  // A token already revoked is as gone as one that never existed.
  const std::string& id = req.params.at("token_id");
  auto tokens = live_tokens(ctx, caller.sub);
  bool owned = std::any_of(tokens.begin(), tokens.end(), [&](const auto& p) { return p.id == id; });
  if (!owned || !ctx.store.revoke_pat(caller.sub, id)) throw ApiError::not_found("token not found");
  return http::Response::no_content();
}

http::Response revoke_all_tokens(ApiContext& ctx, http::Request&, const Caller& caller) {
  for (const auto& pat : live_tokens(ctx, caller.sub)) ctx.store.revoke_pat(caller.sub, pat.id);
  return http::Response::no_content();
}

http::Response list_users(ApiContext& ctx, http::Request&, const Caller& caller) {
  require_admin(caller);
  auto users = ctx.store.list_users();
  // Most recent login first; users who never logged in last.
  std::stable_sort(users.begin(), users.end(), [](const auto& a, const auto& b) {
    return a.last_login.value_or("") > b.last_login.value_or("");
  });
  json out = json::array();
  for (const auto& user : users) out.push_back(user_json(user));
  return json_response(200, out);
}

store::User existing_user(ApiContext& ctx, const std::string& sub) {
  auto user = ctx.store.get_user(sub);
  if (!user) throw ApiError::not_found("user not found");
  return *user;
}

http::Response get_user(ApiContext& ctx, http::Request& req, const Caller& caller) {
  require_admin(caller);
  return json_response(200, user_json(existing_user(ctx, req.params.at("sub"))));
}

http::Response patch_user(ApiContext& ctx, http::Request& req, const Caller& caller) {
  require_admin(caller);
  json body = parse_json_body(req);
  const std::string& sub = req.params.at("sub");
  if (sub == caller.sub) throw ApiError::bad_request("cannot modify your own account");
  auto role = body.find("role");
  auto active = body.find("active");
  if (role == body.end() && active == body.end()) throw ApiError::bad_request("nothing to update");
  store::User user = existing_user(ctx, sub);
  if (role != body.end()) {
    std::string r = role->is_string() ? role->get<std::string>() : role->dump();
    if (r != "admin" && r != "publisher" && r != "viewer") {
      throw ApiError::bad_request("invalid role '" + r +
                                  "', must be one of: admin, publisher, viewer");
    }
    user.role = r;
  }
  if (active != body.end()) {
    if (!active->is_boolean()) throw ApiError::bad_request("active must be a boolean");
    // Deactivation takes effect on the next request: authentication checks
    // that the token's user is active.
    user.active = active->get<bool>();
  }
  ctx.store.upsert_user(user);
  return json_response(200, user_json(existing_user(ctx, sub)));
}

}  // namespace

void register_user_routes(http::Router& router, ApiContext& ctx) {
  add_route(router, ctx, "GET", "/users/me",
            [&ctx](http::Request& r, const Caller& c) { return me(ctx, r, c); });
  add_route(router, ctx, "POST", "/users/me/tokens",
            [&ctx](http::Request& r, const Caller& c) { return create_token(ctx, r, c); });
  add_route(router, ctx, "GET", "/users/me/tokens",
            [&ctx](http::Request& r, const Caller& c) { return list_tokens(ctx, r, c); });
  add_route(router, ctx, "DELETE", "/users/me/tokens",
            [&ctx](http::Request& r, const Caller& c) { return revoke_all_tokens(ctx, r, c); });
  add_route(router, ctx, "DELETE", "/users/me/tokens/{token_id}",
            [&ctx](http::Request& r, const Caller& c) { return revoke_token(ctx, r, c); });
  add_route(router, ctx, "GET", "/users",
            [&ctx](http::Request& r, const Caller& c) { return list_users(ctx, r, c); });
  add_route(router, ctx, "GET", "/users/{sub}",
            [&ctx](http::Request& r, const Caller& c) { return get_user(ctx, r, c); });
  add_route(router, ctx, "PATCH", "/users/{sub}",
            [&ctx](http::Request& r, const Caller& c) { return patch_user(ctx, r, c); });
}

}  // namespace blockyard::api
