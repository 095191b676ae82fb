// /api/v1/deployments: every bundle ever deployed, newest deployment first,
// across the apps the caller may manage.
#include <algorithm>

#include <nlohmann/json.hpp>

#include "api/json_views.h"
#include "api/route_helpers.h"
#include "api/routes.h"
#include "authz/roles.h"

namespace blockyard::api {

using nlohmann::json;

namespace {

http::Response list_deployments(ApiContext& ctx, http::Request& req, const Caller& caller) {
  store::DeploymentQuery query;
  query.search = req.query_param("search").value_or("");
  query.status = req.query_param("status").value_or("");
  query.page = std::max(1, int_query(req, "page", 1));
  query.per_page = std::clamp(int_query(req, "per_page", 25), 1, 100);
  if (!authz::can_view_all_apps(caller))
    query.visible_to = store::Viewer{caller.sub, caller.groups};
  const store::DeploymentListResult result = ctx.store.list_deployments(query);
  json rows = json::array();
  for (const auto& d : result.deployments) rows.push_back(deployment_json(d));
  return json_response(200, json{{"deployments", rows},
                                 {"total", result.total},
                                 {"page", query.page},
                                 {"per_page", query.per_page}});
}

}  // namespace

void register_deployment_routes(http::Router& router, ApiContext& ctx) {
  add_route(router, ctx, "GET", "/deployments",
            [&ctx](http::Request& r, const Caller& c) { return list_deployments(ctx, r, c); });
}

}  // namespace blockyard::api
