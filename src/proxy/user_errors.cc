#include "proxy/user_errors.h"

namespace blockyard::proxy {

http::UserError user_error(ProxyFailure failure) {
  switch (failure) {
    case ProxyFailure::app_not_found:
      return {404, "not_found", "app not found", "App not found",
              "There is no app at this address. Check the link, or ask the person who shared it "
              "with you."};
    case ProxyFailure::app_disabled:
      return {503, "service_unavailable", "app is disabled", "This app is switched off",
              "Its publisher has switched it off for now. Please try again later."};
    case ProxyFailure::not_published:
      return {503, "service_unavailable", "app has no active bundle", "This app is not ready yet",
              "It has not been published yet. Please try again later."};
    case ProxyFailure::server_full:
      return {503, "service_unavailable", "server at capacity", "The server is busy",
              "Too many people are using apps on this server right now. Please try again in a "
              "minute or two."};
    case ProxyFailure::app_full:
      return {503, "service_unavailable", "app at capacity", "This app is busy",
              "It already has as many visitors as it can take. Please try again in a minute or "
              "two."};
    case ProxyFailure::shutting_down:
      return {503, "service_unavailable", "server is shutting down", "The server is restarting",
              "Please try again in a moment."};
    case ProxyFailure::start_failed:
      return {503, "service_unavailable", "app failed to start", "The app could not start",
              "Please try again later. If this keeps happening, let the app's publisher know."};
    case ProxyFailure::worker_unreachable:
      return {502, "bad_gateway", "the app's worker is not reachable", "The app stopped",
              "Your session of this app has ended. Reload the page to start a new one."};
    case ProxyFailure::worker_silent:
      return {502, "bad_gateway", "the app's worker did not answer", "The app did not respond",
              "Reload the page to try again."};
    case ProxyFailure::internal:
      break;
  }
  return {500, "internal_error", "internal server error", "Something went wrong",
          "The server could not handle this request. Please try again later."};
}

ProxyFailure capacity_failure(std::string_view message) {
  if (message == "app at capacity") return ProxyFailure::app_full;
  if (message == "server is shutting down") return ProxyFailure::shutting_down;
  return ProxyFailure::server_full;
}

int retry_after_seconds(ProxyFailure failure) {
  switch (failure) {
    case ProxyFailure::server_full:
    case ProxyFailure::app_full:
      return 30;
    case ProxyFailure::shutting_down:
      return 5;
    default:
      return 0;
  }
}

}  // namespace blockyard::proxy
