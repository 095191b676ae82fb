// Admin endpoints for the system checks:
//   GET  /api/v1/system/checks         latest report (empty report if none yet)
//   POST /api/v1/system/checks/run     re-run the dynamic checks, return the report
//   GET  /api/v1/admin/system-checks   alias of the first (the path)
// All require a bearer token of an admin (401 without/invalid, 403 otherwise).
// `store` and `checks` must outlive the router.
#pragma once

#include "http/router.h"
#include "preflight/preflight.h"
#include "store/store.h"

namespace blockyard::preflight {

void register_system_check_routes(http::Router& router, store::Store& store, SystemChecks& checks);

}  // namespace blockyard::preflight
