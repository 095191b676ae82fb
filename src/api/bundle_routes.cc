// /api/v1/apps/{id}/bundles: upload (deploy), list, one bundle with its
// restored packages, its build log; /apps/{id}/rollback.
#include <fstream>
#include <sstream>

#include <nlohmann/json.hpp>

#include "api/bundle_deploy.h"
#include "api/json_views.h"
#include "api/relation.h"
#include "api/route_helpers.h"
#include "api/routes.h"
#include "bundle/bundle_runtime.h"
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

store::Bundle require_bundle(ApiContext& ctx, const store::App& app, const std::string& id) {
  auto bundle = ctx.store.get_bundle(id);
  if (!bundle || bundle->app_id != app.id) throw ApiError::not_found("bundle not found");
  return *bundle;
}

http::Response get_bundle(ApiContext& ctx, http::Request& req, const Caller& caller) {
  store::App app = require_app(ctx.store, caller, req.params.at("id"), Relation::collaborator);
  const store::Bundle bundle = require_bundle(ctx, app, req.params.at("bundle_id"));
  json j = bundle_json(bundle);
  j["active"] = app.active_bundle == bundle.id;
  if (auto runtime = bundle::read_bundle_runtime(ctx.deployer.files(app.id, bundle.id).unpacked)) {
    json packages = json::array();
    for (const auto& p : runtime->packages)
      packages.push_back({{"package", p.package},
                          {"version", p.version},
                          {"origin", p.origin},
                          {"source", p.source},
                          {"requested", p.requested}});
    j["r_version"] = runtime->r_version;
    j["packages"] = packages;
  }
  return json_response(200, j);
}

http::Response bundle_log(ApiContext& ctx, http::Request& req, const Caller& caller) {
  store::App app = require_app(ctx.store, caller, req.params.at("id"), Relation::collaborator);
  const store::Bundle bundle = require_bundle(ctx, app, req.params.at("bundle_id"));
  std::ifstream in(ctx.deployer.files(app.id, bundle.id).log, std::ios::binary);
  if (!in) throw ApiError::not_found("no build log for bundle " + bundle.id);
  std::stringstream text;
  text << in.rdbuf();
  http::Response response = http::Response::text(200, text.str());
  response.headers.set("Content-Type", "text/plain; charset=utf-8");
  return response;
}

http::Response rollback(ApiContext& ctx, http::Request& req, const Caller& caller) {
  const json body = parse_json_body(req);
  auto it = body.find("bundle_id");
  if (it == body.end() || !it->is_string() || it->get<std::string>().empty())
    throw ApiError::bad_request("bundle_id is required");
  store::App app = require_app(ctx.store, caller, req.params.at("id"), Relation::collaborator);
  store::App updated = ctx.deployer.rollback(app, it->get<std::string>(), caller.sub);
  audit(ctx, req, caller, "bundle.rollback", app.id,
        json{{"name", app.name}, {"bundle_id", updated.active_bundle.value_or("")}});
  return json_response(200, app_json(updated, app_status(ctx.workers.workers_for_app(app.id))));
}

}  // namespace

void register_bundle_routes(http::Router& router, ApiContext& ctx) {
  add_route(router, ctx, "POST", "/apps/{id}/bundles",
            [&ctx](http::Request& r, const Caller& c) { return upload_bundle(ctx, r, c); });
  add_route(router, ctx, "GET", "/apps/{id}/bundles",
            [&ctx](http::Request& r, const Caller& c) { return list_bundles(ctx, r, c); });
  add_route(router, ctx, "GET", "/apps/{id}/bundles/{bundle_id}",
            [&ctx](http::Request& r, const Caller& c) { return get_bundle(ctx, r, c); });
  add_route(router, ctx, "GET", "/apps/{id}/bundles/{bundle_id}/logs",
            [&ctx](http::Request& r, const Caller& c) { return bundle_log(ctx, r, c); });
  add_route(router, ctx, "POST", "/apps/{id}/rollback",
            [&ctx](http::Request& r, const Caller& c) { return rollback(ctx, r, c); });
}

}  // namespace blockyard::api
