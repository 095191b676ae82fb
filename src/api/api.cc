#include "api/api.h"

#include "api/routes.h"

namespace blockyard::api {

void register_api_routes(http::Router& router, ApiContext& context) {
  register_app_routes(router, context);
  register_bundle_routes(router, context);
  register_task_routes(router, context);
  register_runtime_routes(router, context);
  register_user_routes(router, context);
  register_deployment_routes(router, context);
  register_access_routes(router, context);
  register_bootstrap_routes(router, context);
  register_signin_routes(router, context);
}

}  // namespace blockyard::api
