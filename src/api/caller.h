// Who is calling the API: authentication of /api/v1 requests and the system
// role checks that do not depend on an app.
//
// A personal access token ("Authorization: Bearer by_...") when the request
// carries one; otherwise, with [oidc], a browser's blockyard_session cookie,
// and then a state-changing request must come from this server's own origin
// (auth/csrf.h).
#pragma once

#include <string_view>

#include "auth/caller.h"
#include "http/message.h"

namespace blockyard::api {

struct ApiContext;
using auth::Caller;

// The caller behind the request's session cookie or bearer token.
// Throws ApiError 401 "authentication required" when neither identifies
// anyone, 401 "invalid or expired token" for a bearer token that does not
// identify an active user, and 403 "cross-site request refused" for a
// cookie-authenticated state-changing request from another origin.
Caller authenticate(ApiContext& ctx, const http::Request& request);

// admin > publisher > viewer > anything else.
int role_rank(std::string_view role);
bool has_role_at_least(const Caller& caller, std::string_view role);

// Throws ApiError 403 "admin only" unless the caller is an admin.
void require_admin(const Caller& caller);

// The address a request is attributed to in the audit log.
std::string source_ip(const http::Request& request);

}  // namespace blockyard::api
