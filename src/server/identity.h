// Identity: the sign-in and audit machinery a configuration asks for, built
// once at start-up. Without [oidc] only the audit log and the bootstrap
// token may exist; with it, the OIDC client (discovered now: an unreachable
// or misconfigured provider stops start-up), browser sessions, the sign-in
// endpoints' logic and `by login`'s browser flow.
#pragma once

#include <functional>
#include <memory>

#include "api/bootstrap.h"
#include "auth/browser_sessions.h"
#include "auth/cli_login.h"
#include "auth/oidc_client.h"
#include "auth/sign_in.h"
#include "core/config.h"
#include "store/store.h"
#include "telemetry/audit_log.h"

namespace blockyard::server {

struct Identity {
  std::unique_ptr<telemetry::AuditLog> audit;  // always set (disabled without [audit])
  std::unique_ptr<auth::OidcClient> oidc;
  std::unique_ptr<auth::BrowserSessions> sessions;
  std::unique_ptr<auth::SignIn> sign_in;
  std::unique_ptr<auth::CliLogin> cli_login;
  std::unique_ptr<api::Bootstrap> bootstrap;
};

// Step 1, before anything is written: opens the audit log and discovers the
// identity provider. Throws std::runtime_error naming the provider (or the
// audit path) when either is unusable.
Identity open_identity(const Config& config);

// Step 2, once the store is open: browser sessions, sign-in, `by login`
// and the bootstrap token. `run_async` runs background token refreshes.
void finish_identity(Identity& identity, const Config& config, store::Store& store,
                     std::function<void(std::function<void()>)> run_async);

}  // namespace blockyard::server
