// /api/v1/apps/{id}/bundles: upload (deploy) and list.
#include <nlohmann/json.hpp>

#include "api/bundle_deploy.h"
#include "api/json_views.h"
#include "api/relation.h"
#include "api/route_helpers.h"
#include "api/routes.h"
#include "core/error.h"

namespace blockyard::api {

using nlohmann::json;

namespace {

http::Response upload_bundle(ApiContext& ctx, http::Request& req, const Caller& caller) {
  store::App app = require_app(ctx.store, caller, req.params.at("id"), Relation::collaborator);
  DeployStarted started;
  try {
    started = start_bundle_deploy(ctx, app, caller.sub, req.body_file, req.body);
  } catch (const ApiError& e) {
    audit(ctx, req, caller, "bundle.upload", app.id, json{{"name", app.name}, {"reason", e.what()}},
          "failure");
    throw;
  }
  audit(ctx, req, caller, "bundle.upload", app.id,
        json{{"name", app.name}, {"bundle_id", started.bundle_id}});
  return json_response(202, json{{"bundle_id", started.bundle_id}, {"task_id", started.task_id}});
}

http::Response list_bundles(ApiContext& ctx, http::Request& req, const Caller& caller) {
  store::App app = require_app(ctx.store, caller, req.params.at("id"), Relation::collaborator);
  json bundles = json::array();
  for (const auto& bundle : ctx.store.list_bundles(app.id)) bundles.push_back(bundle_json(bundle));
  return json_response(200, json{{"bundles", bundles}});
}

}  // namespace

void register_bundle_routes(http::Router& router, ApiContext& ctx) {
  add_route(router, ctx, "POST", "/apps/{id}/bundles",
            [&ctx](http::Request& r, const Caller& c) { return upload_bundle(ctx, r, c); });
  add_route(router, ctx, "GET", "/apps/{id}/bundles",
            [&ctx](http::Request& r, const Caller& c) { return list_bundles(ctx, r, c); });
}

}  // namespace blockyard::api
