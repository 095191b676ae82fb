// /healthz and /readyz.
#pragma once

#include <atomic>

#include "backend/backend.h"
#include "http/router.h"
#include "store/store.h"

namespace blockyard::server {

// `draining` is set during shutdown: /healthz and /readyz then answer 503.
void register_health_routes(http::Router& router, store::Store& store, backend::Backend& backend,
                            const std::atomic<bool>& draining);

}  // namespace blockyard::server
