// The data plane's refusals and failures, worded twice: tersely for API
// clients (the JSON error) and for the person in front of a browser (the
// page). Pure; thread safe.
#pragma once

#include <string_view>

#include "http/user_pages.h"

namespace blockyard::proxy {

enum class ProxyFailure {
  app_not_found,       // no app by that name (or a path under /__blockyard/ we do not serve)
  app_disabled,        // the publisher disabled it
  not_published,       // no active bundle yet
  server_full,         // proxy.max_workers reached
  app_full,            // the app's max_workers_per_app reached
  shutting_down,       // the server is stopping
  start_failed,        // the session's worker could not start
  worker_unreachable,  // the worker went away
  worker_silent,       // the worker accepted the request but never answered
  internal,            // our fault; details are in the server log
};

http::UserError user_error(ProxyFailure failure);

// The failure a worker manager's CapacityError message stands for.
ProxyFailure capacity_failure(std::string_view message);

// Seconds a client should wait before retrying, for failures that pass
// (capacity); 0 when retrying soon will not help.
int retry_after_seconds(ProxyFailure failure);

}  // namespace blockyard::proxy
