// /api/v1/admin/update, /rollback and /update/status. This build has no
// update orchestrator: a server that is PID 1 in a container is updated by
// its container runtime, a native one by the operator's package or service
// manager. Both answers say so with 501 and a message the CLI prints.
#pragma once

#include "http/router.h"
#include "store/store.h"

namespace blockyard::server {

void register_update_routes(http::Router& router, store::Store& store, bool pid_one);

}  // namespace blockyard::server
