// /api/v1/apps/{id}/runtime: the app's workers and their sessions.
#include <nlohmann/json.hpp>

#include "api/json_views.h"
#include "api/relation.h"
#include "api/route_helpers.h"
#include "api/routes.h"

namespace blockyard::api {

using nlohmann::json;

namespace {

http::Response app_runtime(ApiContext& ctx, http::Request& req, const Caller& caller) {
  store::App app = require_app(ctx.store, caller, req.params.at("id"), Relation::collaborator);
  json workers = json::array();
  std::size_t active_sessions = 0;
  for (const auto& worker : ctx.workers.workers_for_app(app.id)) {
    if (worker.status != "ended") active_sessions += worker.session_ids.size();
    workers.push_back(worker_json(worker));
  }
  json last_deployed = nullptr;
  if (app.active_bundle) {
    if (auto bundle = ctx.store.get_bundle(*app.active_bundle); bundle && bundle->deployed_at) {
      last_deployed = *bundle->deployed_at;
    }
  }
  // Session history is not recorded yet, so the view counters are unknown
  // (null) rather than a misleading 0.
  return json_response(200, json{{"workers", workers},
                                 {"active_sessions", active_sessions},
                                 {"total_views", nullptr},
                                 {"recent_views", nullptr},
                                 {"unique_visitors", nullptr},
                                 {"last_deployed_at", last_deployed}});
}

}  // namespace

void register_runtime_routes(http::Router& router, ApiContext& ctx) {
  add_route(router, ctx, "GET", "/apps/{id}/runtime",
            [&ctx](http::Request& r, const Caller& c) { return app_runtime(ctx, r, c); });
}

}  // namespace blockyard::api
