#include "server/health_routes.h"

#include <spdlog/spdlog.h>

#include <nlohmann/json.hpp>

namespace blockyard::server {

void register_health_routes(http::Router& router, store::Store& store, backend::Backend& backend,
                            const std::atomic<bool>& draining) {
  router.add("GET", "/healthz", [&draining](http::Request&) {
    if (draining) return http::Response::text(503, "draining");
    return http::Response::text(200, "ok");
  });
  router.add("GET", "/readyz", [&store, &backend, &draining](http::Request&) {
    if (draining) return http::Response::json(503, R"({"status":"draining"})");
    nlohmann::json checks;
    bool ok = true;
    try {
      store.ping();
      checks["database"] = "pass";
    } catch (const std::exception& e) {
      spdlog::warn("readyz: database check failed: {}", e.what());
      checks["database"] = "fail";
      ok = false;
    }
    try {
      backend.list_managed();
      checks["backend"] = "pass";
    } catch (const std::exception& e) {
      spdlog::warn("readyz: backend check failed: {}", e.what());
      checks["backend"] = "fail";
      ok = false;
    }
    nlohmann::json body = {{"status", ok ? "ready" : "not_ready"}, {"checks", checks}};
    auto res = http::Response::json(ok ? 200 : 503, body.dump());
    res.headers.set("Cache-Control", "no-store");
    return res;
  });
}

}  // namespace blockyard::server
