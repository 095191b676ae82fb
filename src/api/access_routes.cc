// /api/v1/apps/{id}/access: per-app grants to users and IdP groups
// (control-plane spec §2.4; groups are ours). Owner or admin only; anyone
// else gets the same 404 as for an app that does not exist.
#include <nlohmann/json.hpp>

#include "api/relation.h"
#include "api/route_helpers.h"
#include "api/routes.h"
#include "authz/access.h"
#include "core/error.h"
#include "store/timestamp.h"

namespace blockyard::api {

using nlohmann::json;

namespace {

std::string string_field(const json& body, const char* name, const std::string& fallback) {
  auto it = body.find(name);
  if (it == body.end() || it->is_null()) return fallback;
  if (!it->is_string()) throw ApiError::bad_request(std::string(name) + " must be a string");
  return it->get<std::string>();
}

http::Response grant(ApiContext& ctx, http::Request& req, const Caller& caller) {
  json body = parse_json_body(req);
  store::App app = require_app(ctx.store, caller, req.params.at("id"), Relation::owner);
  store::AccessGrant g;
  g.app_id = app.id;
  g.principal = string_field(body, "principal", "");
  g.kind = string_field(body, "kind", "user");
  g.role = string_field(body, "role", "viewer");
  if (!authz::is_grant_kind(g.kind)) throw ApiError::bad_request("kind must be 'user' or 'group'");
  if (!authz::is_content_role(g.role)) {
    throw ApiError::bad_request("role must be 'viewer' or 'collaborator'");
  }
  if (g.principal.empty()) throw ApiError::bad_request("principal must not be empty");
  if (g.kind == "group" && (!ctx.config.oidc || ctx.config.oidc->groups_claim.empty())) {
    // It would admit no one, silently.
    throw ApiError::bad_request(
        "group grants need [oidc] groups_claim: without it no user's groups are known");
  }
  if (g.kind == "user" && g.principal == caller.sub) {
    throw ApiError::bad_request("cannot grant access to yourself");
  }
  g.granted_by = caller.sub;
  g.granted_at = store::now_rfc3339();
  ctx.store.grant_access(g);
  audit(ctx, req, caller, "access.grant", app.id,
        json{{"app", app.name}, {"principal", g.principal}, {"kind", g.kind}, {"role", g.role}});
  return http::Response::no_content();
}

http::Response list(ApiContext& ctx, http::Request& req, const Caller& caller) {
  store::App app = require_app(ctx.store, caller, req.params.at("id"), Relation::owner);
  json out = json::array();
  for (const auto& g : ctx.store.list_access(app.id)) {
    json item = {{"principal", g.principal},
                 {"kind", g.kind},
                 {"role", g.role},
                 {"granted_by", g.granted_by},
                 {"granted_at", g.granted_at}};
    if (g.kind == "user") {
      auto user = ctx.store.get_user(g.principal);
      item["name"] = user && !user->name.empty() ? user->name : g.principal;
    }
    out.push_back(std::move(item));
  }
  return json_response(200, out);
}

http::Response revoke(ApiContext& ctx, http::Request& req, const Caller& caller) {
  store::App app = require_app(ctx.store, caller, req.params.at("id"), Relation::owner);
  const std::string& kind = req.params.at("kind");
  const std::string& principal = req.params.at("principal");
  // By the resolved id, so revoking through the app's name works too.
  if (!ctx.store.revoke_access(app.id, kind, principal)) {
    throw ApiError::not_found("grant not found");
  }
  audit(ctx, req, caller, "access.revoke", app.id,
        json{{"app", app.name}, {"principal", principal}, {"kind", kind}});
  return http::Response::no_content();
}

}  // namespace

void register_access_routes(http::Router& router, ApiContext& ctx) {
  add_route(router, ctx, "POST", "/apps/{id}/access",
            [&ctx](http::Request& r, const Caller& c) { return grant(ctx, r, c); });
  add_route(router, ctx, "GET", "/apps/{id}/access",
            [&ctx](http::Request& r, const Caller& c) { return list(ctx, r, c); });
  add_route(router, ctx, "DELETE", "/apps/{id}/access/{kind}/{principal}",
            [&ctx](http::Request& r, const Caller& c) { return revoke(ctx, r, c); });
}

}  // namespace blockyard::api
