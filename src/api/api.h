// The REST control plane under /api/v1. register_api_routes() adds every
// route to the router; handlers are synchronous and run on the HTTP server's
// threads, so slow work (bundle builds) goes through ApiContext::deployer.
#pragma once

#include <functional>

#include "api/worker_control.h"
#include "core/config.h"
#include "deploy/deployer.h"
#include "http/router.h"
#include "store/store.h"
#include "tasks/task_registry.h"

namespace blockyard::api {

struct ApiContext {
  const Config& config;
  store::Store& store;
  tasks::TaskRegistry& tasks;
  WorkerControl& workers;
  // Builds, rollbacks, deletion and retention of bundles and apps.
  deploy::Deployer& deployer;
};

// The context must outlive the router.
void register_api_routes(http::Router& router, ApiContext& context);

}  // namespace blockyard::api
