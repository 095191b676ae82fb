// Route groups of the /api/v1 control plane, one file each; api.cc calls
// them all from register_api_routes().
#pragma once

#include "api/api.h"
#include "http/router.h"

namespace blockyard::api {

void register_app_routes(http::Router& router, ApiContext& context);         // apps_routes.cc
void register_bundle_routes(http::Router& router, ApiContext& context);      // bundle_routes.cc
void register_task_routes(http::Router& router, ApiContext& context);        // task_routes.cc
void register_runtime_routes(http::Router& router, ApiContext& context);     // runtime_routes.cc
void register_user_routes(http::Router& router, ApiContext& context);        // user_routes.cc
void register_deployment_routes(http::Router& router, ApiContext& context);  // deployment_routes.cc

}  // namespace blockyard::api
