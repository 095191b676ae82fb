#include "api/route_helpers.h"

#include <charconv>

#include <spdlog/spdlog.h>

#include "core/error.h"

namespace blockyard::api {

void add_api_headers(http::Response& response) {
  response.headers.set("Cache-Control", "no-store");
  response.headers.set("Content-Security-Policy", "default-src 'none'; frame-ancestors 'none'");
}

void add_public_route(http::Router& router, const std::string& method, const std::string& pattern,
                      PublicHandler handler) {
  router.add(method, "/api/v1" + pattern, [handler = std::move(handler)](http::Request& request) {
    http::Response response;
    try {
      response = handler(request);
    } catch (const ApiError& e) {
      response = http::Response::error(e.status(), e.code(), e.what());
    } catch (const store::StoreError& e) {
      const ApiError api = error_for(e);
      response = http::Response::error(api.status(), api.code(), api.what());
    } catch (const std::exception& e) {
      spdlog::error("api {} {} failed: {}", request.method, request.path, e.what());
      response = http::Response::error(500, "internal_error", "internal server error");
    }
    add_api_headers(response);
    return response;
  });
}

void add_route(http::Router& router, ApiContext& context, const std::string& method,
               const std::string& pattern, CallerHandler handler) {
  add_public_route(router, method, pattern,
                   [&context, handler = std::move(handler)](http::Request& request) {
                     Caller caller = authenticate(context, request);
                     return handler(request, caller);
                   });
}

void audit(ApiContext& ctx, const http::Request& request, const Caller& caller,
           const std::string& action, const std::string& target, nlohmann::json detail,
           const std::string& outcome) {
  if (ctx.audit == nullptr) return;
  ctx.audit->emit({action, caller.sub, target, std::move(detail), source_ip(request), outcome});
}

ApiError error_for(const store::StoreError& error) {
  switch (error.kind()) {
    case store::StoreErrorKind::not_found:
      return ApiError::not_found(error.what());
    case store::StoreErrorKind::conflict:
    case store::StoreErrorKind::name_reserved:
      return ApiError::conflict(error.what());
  }
  return ApiError::conflict(error.what());
}

nlohmann::json parse_json_body(const http::Request& request) {
  if (request.body.size() > kMaxJsonBody) throw ApiError::bad_request("invalid JSON body");
  auto body = nlohmann::json::parse(request.body, nullptr, /*allow_exceptions=*/false);
  if (body.is_discarded() || !body.is_object()) throw ApiError::bad_request("invalid JSON body");
  return body;
}

http::Response json_response(int status, const nlohmann::json& body) {
  // Replace invalid UTF-8 (e.g. in a stored log line) instead of failing.
  return http::Response::json(status,
                              body.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace));
}

int int_query(const http::Request& request, std::string_view name, int fallback) {
  auto text = request.query_param(name);
  if (!text || text->empty()) return fallback;
  int value = 0;
  auto [end, ec] = std::from_chars(text->data(), text->data() + text->size(), value);
  if (ec != std::errc() || end != text->data() + text->size()) return fallback;
  return value;
}

}  // namespace blockyard::api
