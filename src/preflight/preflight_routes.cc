#include "preflight/preflight_routes.h"

#include <spdlog/spdlog.h>

#include "auth/pat.h"
#include "core/error.h"

namespace blockyard::preflight {

namespace {

using ReportSource = std::function<Report()>;

http::Handler admin_report_handler(store::Store& store, ReportSource source) {
  return [&store, source = std::move(source)](http::Request& request) {
    http::Response response;
    try {
      auto token = request.bearer_token();
      if (!token || token->empty()) throw ApiError::unauthorized("authentication required");
      if (auth::authenticate_token(store, *token).role != "admin") {
        throw ApiError::forbidden("admin only");
      }
      response = http::Response::json(200, to_json(source()).dump());
    } catch (const ApiError& e) {
      response = http::Response::error(e.status(), e.code(), e.what());
    } catch (const std::exception& e) {
      spdlog::error("api {} {} failed: {}", request.method, request.path, e.what());
      response = http::Response::error(500, "internal_error", "internal server error");
    }
    response.headers.set("Cache-Control", "no-store");
    response.headers.set("Content-Security-Policy", "default-src 'none'; frame-ancestors 'none'");
    return response;
  };
}

}  // namespace

void register_system_check_routes(http::Router& router, store::Store& store, SystemChecks& checks) {
  auto latest = [&checks] { return checks.latest(); };
  router.add("GET", "/api/v1/system/checks", admin_report_handler(store, latest));
  router.add("GET", "/api/v1/admin/system-checks", admin_report_handler(store, latest));
  router.add("POST", "/api/v1/system/checks/run",
             admin_report_handler(store, [&checks] { return checks.rerun_dynamic(); }));
}

}  // namespace blockyard::preflight
