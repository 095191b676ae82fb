#include "api/caller.h"

#include "api/api.h"
#include "auth/cookies.h"
#include "auth/csrf.h"
#include "auth/oidc_client.h"
#include "auth/pat.h"
#include "authz/roles.h"
#include "core/error.h"

namespace blockyard::api {

namespace {

std::optional<Caller> from_session_cookie(ApiContext& ctx, const http::Request& request) {
  if (ctx.sessions == nullptr) return std::nullopt;
  auto header = request.headers.get("Cookie");
  if (!header) return std::nullopt;
  auto value = auth::find_cookie(*header, auth::kSessionCookie);
  if (!value) return std::nullopt;
  return ctx.sessions->check(*value).caller;
}

}  // namespace

Caller authenticate(ApiContext& ctx, const http::Request& request) {
  // A bearer token is what a program sends on purpose; a browser never adds
  // one to a cross-site request, so it needs no origin check.
  auto token = request.bearer_token();
  if (token && !token->empty()) return auth::authenticate_token(ctx.store, *token);
  if (auto caller = from_session_cookie(ctx, request)) {
    if (!auth::is_same_origin_request(request.method, request.headers.get("Sec-Fetch-Site"),
                                      request.headers.get("Origin"),
                                      auth::url_origin(ctx.config.server.external_url))) {
      throw ApiError::forbidden("cross-site request refused");
    }
    return *caller;
  }
  throw ApiError::unauthorized("authentication required");
}

int role_rank(std::string_view role) {
  return static_cast<int>(authz::parse_role(role));
}

bool has_role_at_least(const Caller& caller, std::string_view role) {
  return role_rank(caller.role) >= role_rank(role);
}

void require_admin(const Caller& caller) {
  if (caller.role != "admin") throw ApiError::forbidden("admin only");
}

std::string source_ip(const http::Request& request) {
  return request.client_ip.empty() ? request.peer_ip : request.client_ip;
}

}  // namespace blockyard::api
