// The REST control plane under /api/v1. register_api_routes() adds every
// route to the router; handlers are synchronous and run on the HTTP server's
// threads, so slow work (bundle builds) goes through ApiContext::deployer.
#pragma once

#include <functional>

#include "api/bootstrap.h"
#include "api/worker_control.h"
#include "auth/browser_sessions.h"
#include "auth/cli_login.h"
#include "auth/sign_in.h"
#include "core/config.h"
#include "deploy/deployer.h"
#include "http/router.h"
#include "store/store.h"
#include "tasks/task_registry.h"
#include "telemetry/audit_log.h"

namespace blockyard::api {

struct ApiContext {
  const Config& config;
  store::Store& store;
  tasks::TaskRegistry& tasks;
  WorkerControl& workers;
  // Builds, rollbacks, deletion and retention of bundles and apps.
  deploy::Deployer& deployer;
  // Browser sign-in ([oidc]); null without an identity provider, when only
  // personal access tokens authenticate.
  auth::BrowserSessions* sessions = nullptr;
  auth::SignIn* sign_in = nullptr;
  // `by login` through the browser; null without [oidc].
  auth::CliLogin* cli_login = nullptr;
  // server.bootstrap_token; null when none is configured.
  Bootstrap* bootstrap = nullptr;
  // [audit]; null = not audited.
  telemetry::AuditLog* audit = nullptr;
};

// The context must outlive the router.
void register_api_routes(http::Router& router, ApiContext& context);

}  // namespace blockyard::api
