#include "server/update_routes.h"

#include <nlohmann/json.hpp>

#include "auth/pat.h"
#include "core/error.h"

namespace blockyard::server {

namespace {

constexpr const char* kContainerMessage =
    "server updates are not available from inside a container: blockyard runs as PID 1, so "
    "update by pulling the new image and recreating the container with your container runtime "
    "(docker compose pull && docker compose up -d, or a Kubernetes rollout)";
constexpr const char* kNativeMessage =
    "server updates are not available in this build: install the new release with your package "
    "or service manager and restart the service";

void require_admin(store::Store& store, http::Request& request) {
  auto token = request.bearer_token();
  if (!token) throw ApiError::unauthorized("authentication required");
  if (auth::authenticate_token(store, *token).role != "admin") {
    throw ApiError::forbidden("admin only");
  }
}

}  // namespace

void register_update_routes(http::Router& router, store::Store& store, bool pid_one) {
  const char* message = pid_one ? kContainerMessage : kNativeMessage;
  auto unavailable = [&store, message](http::Request& request) {
    require_admin(store, request);
    return http::Response::error(501, "not_implemented", message);
  };
  router.add("POST", "/api/v1/admin/update", unavailable);
  router.add("POST", "/api/v1/admin/rollback", unavailable);
  router.add("GET", "/api/v1/admin/update/status", [&store, message](http::Request& request) {
    require_admin(store, request);
    nlohmann::json body = {{"state", "idle"}, {"available", false}, {"message", message}};
    return http::Response::json(200, body.dump());
  });
}

}  // namespace blockyard::server
