// POST /api/v1/bootstrap (see api/bootstrap.h) and POST
// /api/v1/cli-login/token (the last step of `by login` through the browser,
// auth/cli_login.h). Both authenticate by what they are sent, not by a
// session or token.
#include <spdlog/spdlog.h>
#include <nlohmann/json.hpp>

#include "api/route_helpers.h"
#include "api/routes.h"
#include "auth/pat.h"
#include "core/crypto.h"
#include "core/error.h"
#include "store/timestamp.h"

namespace blockyard::api {

using nlohmann::json;

namespace {

constexpr const char* kBootstrapEmail = "bootstrap@blockyard.local";
constexpr const char* kBootstrapName = "Bootstrap User";

void audit_as(ApiContext& ctx, const http::Request& req, const std::string& actor,
              const std::string& action, const std::string& target, json detail,
              const std::string& outcome) {
  if (ctx.audit == nullptr) return;
  ctx.audit->emit({action, actor, target, std::move(detail), source_ip(req), outcome});
}

std::string optional_string(const json& body, const char* name, const std::string& fallback) {
  auto it = body.find(name);
  if (it == body.end() || it->is_null()) return fallback;
  if (!it->is_string()) throw ApiError::bad_request(std::string(name) + " must be a string");
  return it->get<std::string>().empty() ? fallback : it->get<std::string>();
}

http::Response bootstrap(ApiContext& ctx, http::Request& req) {
  Bootstrap* boot = ctx.bootstrap;
  if (boot == nullptr) throw ApiError::not_found("bootstrap not available");
  if (boot->redeemed()) throw ApiError::gone("bootstrap token already redeemed");
  auto bearer = req.bearer_token();
  if (!bearer || bearer->empty()) throw ApiError::unauthorized("bearer token required");
  if (!constant_time_equal(sha256_hex(*bearer), boot->token_hash())) {
    audit_as(ctx, req, "anonymous", "token.create", "", json{{"bootstrap", true}}, "denied");
    throw ApiError::unauthorized("invalid bootstrap token");
  }
  json body = parse_json_body(req);
  const std::string name = optional_string(body, "name", "bootstrap");
  std::optional<std::string> expires_at = expiry_from_body(body);

  // Claim first: concurrent losers stop here and write nothing.
  if (!boot->claim()) throw ApiError::gone("bootstrap token already redeemed");
  try {
    const std::string admin = boot->initial_admin();
    if (!ctx.store.get_user(admin)) {
      store::User user;
      user.sub = admin;
      user.email = kBootstrapEmail;
      user.name = kBootstrapName;
      user.role = "admin";
      ctx.store.upsert_user(user);
    }
    std::string token = auth::generate_token();
    store::PersonalAccessToken pat;
    pat.id = uuid_v4();
    pat.user_sub = admin;
    pat.name = name;
    pat.token_hash = auth::hash_token(token);
    pat.created_at = store::now_rfc3339();
    pat.expires_at = expires_at;
    store::PersonalAccessToken burn;
    burn.id = kBootstrapBurnId;
    burn.user_sub = admin;
    burn.name = kBootstrapBurnId;
    burn.token_hash = boot->token_hash();
    burn.created_at = pat.created_at;
    burn.revoked = true;
    if (!ctx.store.redeem_bootstrap(burn, pat)) {
      // Another server sharing the database redeemed it first.
      throw ApiError::gone("bootstrap token already redeemed");
    }
    audit_as(ctx, req, admin, "token.create", pat.id, json{{"name", name}, {"bootstrap", true}},
             "success");
    spdlog::info("bootstrap token redeemed for {}", admin);
    return json_response(201, json{{"id", pat.id},
                                   {"name", pat.name},
                                   {"token", token},
                                   {"created_at", pat.created_at},
                                   {"expires_at", expires_at ? json(*expires_at) : json(nullptr)}});
  } catch (const ApiError& e) {
    if (e.status() != 410) boot->release();
    throw;
  } catch (...) {
    boot->release();
    throw;
  }
}

http::Response cli_token(ApiContext& ctx, http::Request& req) {
  if (ctx.cli_login == nullptr) throw ApiError::not_found("sign-in is not configured");
  json body = parse_json_body(req);
  const std::string code = optional_string(body, "code", "");
  const std::string verifier = optional_string(body, "code_verifier", "");
  if (code.empty() || verifier.empty()) {
    throw ApiError::bad_request("code and code_verifier are required");
  }
  auto grant = ctx.cli_login->redeem(code, verifier);
  if (!grant) throw ApiError::unauthorized("invalid or expired sign-in code");
  auto user = ctx.store.get_user(grant->sub);
  if (!user || !user->active) throw ApiError::unauthorized("invalid or expired sign-in code");
  json created = issue_token_response(ctx, grant->sub, grant->token_name, expiry_from_body(body));
  audit_as(ctx, req, grant->sub, "token.create", created["id"],
           json{{"name", created["name"]}, {"via", "cli-login"}}, "success");
  return json_response(201, created);
}

}  // namespace

void register_bootstrap_routes(http::Router& router, ApiContext& ctx) {
  add_public_route(router, "POST", "/bootstrap",
                   [&ctx](http::Request& r) { return bootstrap(ctx, r); });
  add_public_route(router, "POST", "/cli-login/token",
                   [&ctx](http::Request& r) { return cli_token(ctx, r); });
}

}  // namespace blockyard::api
