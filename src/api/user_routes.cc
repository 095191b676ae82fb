// /api/v1/users/me[/tokens] and the admin user endpoints.
#include <algorithm>

#include <nlohmann/json.hpp>

#include "api/json_views.h"
#include "api/route_helpers.h"
#include "api/routes.h"
#include "auth/pat.h"
#include "authz/roles.h"
#include "core/crypto.h"
#include "core/error.h"

namespace blockyard::api {

using nlohmann::json;

namespace {

http::Response me(ApiContext& ctx, http::Request&, const Caller& caller) {
  json out;
  if (auto user = ctx.store.get_user(caller.sub)) {
    out = json{
        {"sub", user->sub}, {"email", user->email}, {"name", user->name}, {"role", user->role}};
  } else {
    out = json{{"sub", caller.sub}, {"name", caller.name}, {"role", caller.role}};
  }
  if (!caller.groups.empty()) out["groups"] = caller.groups;
  return json_response(200, out);
}

}  // namespace

json issue_token_response(ApiContext& ctx, const std::string& sub, const std::string& name,
                          const std::optional<std::string>& expires_at) {
  std::string token = auth::issue_pat(ctx.store, sub, name, expires_at);
  auto pat = ctx.store.find_pat_by_hash(sha256_hex(token));
  if (!pat) throw std::runtime_error("issued token not found in the store");
  return json{{"id", pat->id},
              {"name", pat->name},
              {"token", token},
              {"created_at", pat->created_at},
              {"expires_at", pat->expires_at ? json(*pat->expires_at) : json(nullptr)}};
}

std::optional<std::string> expiry_from_body(const json& body) {
  std::optional<std::string> expires_at;
  if (auto it = body.find("expires_in"); it != body.end() && !it->is_null()) {
    if (!it->is_string()) throw ApiError::bad_request("expires_in must be a string");
    if (!it->get<std::string>().empty()) expires_at = auth::expiry_from_now(it->get<std::string>());
  }
  return expires_at;
}

namespace {

// With [oidc], as in the original, tokens are minted only for browser
// sessions (by login signs in through the browser), so that a leaked token
// cannot breed more. Without an identity provider there is no browser
// session: the local admin's token may create tokens for itself, or the CLI
// could never get a second token or rotate the first one.
http::Response create_token(ApiContext& ctx, http::Request& req, const Caller& caller) {
  if (ctx.sessions != nullptr && caller.credential != auth::Credential::session) {
    throw ApiError::forbidden("tokens can only be created via browser session");
  }
  json body = parse_json_body(req);
  auto name_it = body.find("name");
  if (name_it == body.end() || !name_it->is_string() || name_it->get<std::string>().empty()) {
    throw ApiError::bad_request("name is required");
  }
  json created =
      issue_token_response(ctx, caller.sub, name_it->get<std::string>(), expiry_from_body(body));
  audit(ctx, req, caller, "token.create", created["id"], json{{"name", created["name"]}});
  return json_response(201, created);
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
  audit(ctx, req, caller, "token.revoke", id);
  return http::Response::no_content();
}

http::Response revoke_all_tokens(ApiContext& ctx, http::Request& req, const Caller& caller) {
  int count = ctx.store.revoke_all_pats(caller.sub);
  audit(ctx, req, caller, "token.revoke_all", caller.sub, json{{"count", count}});
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
  auto role_it = body.find("role");
  auto active_it = body.find("active");
  if (role_it == body.end() && active_it == body.end()) {
    throw ApiError::bad_request("nothing to update");
  }
  std::optional<std::string> role;
  std::optional<bool> active;
  json changes = json::object();
  if (role_it != body.end()) {
    std::string r = role_it->is_string() ? role_it->get<std::string>() : role_it->dump();
    if (!authz::is_assignable_role(r)) {
      throw ApiError::bad_request("invalid role '" + r +
                                  "', must be one of: admin, publisher, viewer");
    }
    role = r;
    changes["role"] = r;
  }
  if (active_it != body.end()) {
    if (!active_it->is_boolean()) throw ApiError::bad_request("active must be a boolean");
    active = active_it->get<bool>();
    changes["active"] = *active;
  }
  auto user = ctx.store.update_user(sub, role, active);
  if (!user) throw ApiError::not_found("user not found");
  // Tokens check the user's state on every request; browser sessions and
  // the app connections they opened end now.
  if (active == false && ctx.sessions != nullptr) ctx.sessions->end_all(sub);
  audit(ctx, req, caller, "user.update", sub, changes);
  return json_response(200, user_json(*user));
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
