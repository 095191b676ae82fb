// Plumbing shared by the /api/v1 handlers: authenticated route registration
// with the headers every JSON route carries, and JSON body/response helpers.
#pragma once

#include <functional>
#include <string>

#include <nlohmann/json.hpp>

#include "api/api.h"
#include "api/caller.h"
#include "core/error.h"
#include "http/message.h"
#include "http/router.h"
#include "store/store_error.h"

namespace blockyard::api {

// Largest JSON request body the API reads (bundle uploads are spooled to a
// file by the server and are not subject to it).
inline constexpr std::size_t kMaxJsonBody = 1 << 20;

using CallerHandler = std::function<http::Response(http::Request&, const Caller&)>;
using PublicHandler = std::function<http::Response(http::Request&)>;

// Registers "/api/v1" + `pattern`. The handler runs only for an
// authenticated caller; ApiError, store::StoreError (error_for()) and other
// exceptions thrown by it (or by authentication) become JSON error responses
// here, so that every answer,
// errors included, carries Cache-Control: no-store and the API's CSP.
void add_route(http::Router& router, ApiContext& context, const std::string& method,
               const std::string& pattern, CallerHandler handler);

// The HTTP meaning of a write the store refused: not_found is 404, conflict
// and name_reserved are 409; the store's message is kept.
ApiError error_for(const store::StoreError& error);

// Registers "/api/v1" + `pattern` for a handler that authenticates by
// itself (bootstrap, CLI sign-in), with the same error handling and headers.
void add_public_route(http::Router& router, const std::string& method, const std::string& pattern,
                      PublicHandler handler);

// Records an audit event for an API action by `caller` (source IP from the
// request); does nothing when [audit] is not configured.
void audit(ApiContext& ctx, const http::Request& request, const Caller& caller,
           const std::string& action, const std::string& target,
           nlohmann::json detail = nlohmann::json::object(),
           const std::string& outcome = "success");

// Sets the headers every /api/v1 response carries.
void add_api_headers(http::Response& response);

// The request body as a JSON object. Throws ApiError 400 "invalid JSON body"
// when it is larger than kMaxJsonBody, malformed, or not an object.
nlohmann::json parse_json_body(const http::Request& request);

http::Response json_response(int status, const nlohmann::json& body);

// Integer query parameter, `fallback` when absent or not an integer.
int int_query(const http::Request& request, std::string_view name, int fallback);

}  // namespace blockyard::api
