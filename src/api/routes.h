// Route groups of the /api/v1 control plane, one file each; api.cc calls
// them all from register_api_routes().
#pragma once

#include <optional>
#include <string>

#include <nlohmann/json.hpp>

#include "api/api.h"
#include "http/router.h"

namespace blockyard::api {

void register_app_routes(http::Router& router, ApiContext& context);        // apps_routes.cc
void register_bundle_routes(http::Router& router, ApiContext& context);     // bundle_routes.cc
void register_task_routes(http::Router& router, ApiContext& context);       // task_routes.cc
void register_runtime_routes(http::Router& router, ApiContext& context);    // runtime_routes.cc
void register_user_routes(http::Router& router, ApiContext& context);       // user_routes.cc
void register_deployment_routes(http::Router& router, ApiContext& context);  // deployment_routes.cc
void register_access_routes(http::Router& router, ApiContext& context);     // access_routes.cc
void register_bootstrap_routes(http::Router& router, ApiContext& context);  // bootstrap_routes.cc
// /login, /callback, /logout, /signed-out, /login/cli (outside /api/v1).
void register_signin_routes(http::Router& router, ApiContext& context);  // signin_routes.cc

// user_routes.cc: a new personal access token for `sub`, as the JSON the
// API answers with (id, name, token, created_at, expires_at), and the
// expiry a body's optional "expires_in" ("90d", "12h", "30m") asks for.
nlohmann::json issue_token_response(ApiContext& ctx, const std::string& sub,
                                    const std::string& name,
                                    const std::optional<std::string>& expires_at);
std::optional<std::string> expiry_from_body(const nlohmann::json& body);

}  // namespace blockyard::api
