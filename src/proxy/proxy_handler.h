// ProxyHandler: the data plane for /app/{name}/... . Resolves the app, checks
// who may use it (with [oidc]: anonymous visitors of a non-public app are sent
// to sign in, signed-in users without access get 404), binds the browser
// session (cookie blockyard_route, honoured only for the user who opened it)
// to its own worker, serves the loading page while that worker starts, then
// forwards HTTP requests and tunnels the Shiny WebSocket to the worker with
// X-Shiny-User / X-Shiny-Access / X-Shiny-Groups set from the caller.
#pragma once

#include <memory>

#include <boost/asio/io_context.hpp>

#include "auth/browser_sessions.h"
#include "auth/cookies.h"
#include "core/config.h"
#include "core/task_pool.h"
#include "http/connection.h"
#include "proxy/app_resolver.h"
#include "proxy/resume_registry.h"
#include "proxy/upstream_pool.h"
#include "proxy/worker_manager.h"
#include "store/store.h"

namespace blockyard::proxy {

class ProxyHandler : public http::DataPlaneHandler {
 public:
  // `sessions` is null without [oidc]: then every enabled app is served to
  // anyone, as X-Shiny-Access: anonymous.
  ProxyHandler(http::asio::io_context& io, const Config& config, store::Store& store,
               WorkerManager& workers, auth::BrowserSessions* sessions = nullptr);

  void handle(std::shared_ptr<http::Connection> conn, http::HeaderParser& parser) override;

  struct Deps {
    http::asio::io_context& io;  // upstream sockets live here, not on a client's executor
    const Config& config;
    store::Store& store;
    WorkerManager& workers;
    UpstreamPool& upstreams;
    ResumeRegistry& resumes;          // resumable Shiny WebSockets by token
    AppResolver& apps;                // the store's apps, cached for the hot path
    TaskPool& lookups;                // store reads (and shared-state calls) off the I/O threads
    auth::BrowserSessions* sessions;  // sign-in; null without [oidc]
  };

 private:
  UpstreamPool upstreams_;
  ResumeRegistry resumes_;
  AppResolver apps_;
  TaskPool lookups_{"proxy lookups", 2};
  Deps deps_;
  WorkerEvents::Subscription worker_ended_;  // last: unsubscribed before the rest goes
};

// Name of the routing cookie.
inline constexpr const char* kRouteCookie = "blockyard_route";

using auth::find_cookie;

// True for 1-63 chars of [a-z0-9-] (what may follow /app/ for a redirect).
bool is_plausible_app_segment(std::string_view segment);

}  // namespace blockyard::proxy
