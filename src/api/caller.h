// Who is calling the API: authentication of /api/v1 requests and the system
// role checks that do not depend on an app.
//
// Without OIDC the only credential is a personal access token ("by_..."), so
// a caller is always a user row with its current role.
#pragma once

#include <string_view>

#include "auth/pat.h"
#include "http/message.h"
#include "store/store.h"

namespace blockyard::api {

using auth::Caller;

// The caller behind the request's bearer token.
// Throws ApiError 401 "authentication required" when no bearer token is
// present, and whatever auth::authenticate_token throws (401 "invalid or
// expired token") when it does not identify an active user.
Caller authenticate(store::Store& store, const http::Request& request);

// admin > publisher > viewer > anything else.
int role_rank(std::string_view role);
bool has_role_at_least(const Caller& caller, std::string_view role);

// Throws ApiError 403 "admin only" unless the caller is an admin.
void require_admin(const Caller& caller);

}  // namespace blockyard::api
