// /api/v1/apps: create, list, get, patch, delete (soft, hard, purge),
// restore, enable, disable.
#include <algorithm>

#include "api/app_validation.h"
#include "api/json_views.h"
#include "api/relation.h"
#include "api/route_helpers.h"
#include "api/routes.h"
#include "authz/roles.h"
#include "core/error.h"

namespace blockyard::api {

using nlohmann::json;

namespace {

AppStatus live_status(ApiContext& ctx, const std::string& app_id) {
  return app_status(ctx.workers.workers_for_app(app_id));
}

json full_app(ApiContext& ctx, const store::App& app) {
  return app_json(app, live_status(ctx, app.id));
}

http::Response create_app(ApiContext& ctx, http::Request& req, const Caller& caller) {
  if (!authz::can_create_app(caller)) throw ApiError::forbidden("insufficient permissions");
  json body = parse_json_body(req);
  auto name_it = body.find("name");
  if (name_it == body.end() || !name_it->is_string()) {
    throw ApiError::bad_request("name is required");
  }
  std::string name = name_it->get<std::string>();
  if (auto error = app_name_error(name)) throw ApiError::bad_request(*error);
  const std::string conflict = "app name \"" + name + "\" already exists";
  if (ctx.store.get_app_by_name(name)) throw ApiError::conflict(conflict);
  store::App app;
  try {
    app = ctx.store.create_app(name, caller.sub, store::now_rfc3339());
  } catch (const store::StoreError& e) {
    // Lost a race with a concurrent create of the same name; a name still
    // serving a renamed app (name_reserved) keeps the store's own message.
    if (e.kind() == store::StoreErrorKind::conflict) throw ApiError::conflict(conflict);
    throw;
  }
  audit(ctx, req, caller, "app.create", app.id, json{{"name", app.name}});
  return json_response(201, full_app(ctx, app));
}

http::Response list_apps(ApiContext& ctx, http::Request& req, const Caller& caller) {
  if (req.query_param("deleted") == "true") {
    require_admin(caller);
    json deleted = json::array();
    for (const auto& app : ctx.store.list_deleted_apps(std::nullopt)) {
      json j = full_app(ctx, app);
      j["deleted_at"] = app.deleted_at.value_or("");
      deleted.push_back(j);
    }
    return json_response(200, deleted);
  }
  store::AppListQuery query;
  query.search = req.query_param("search").value_or("");
  query.page = std::max(1, int_query(req, "page", 1));
  query.per_page = std::clamp(int_query(req, "per_page", 25), 1, 100);
  if (!authz::can_view_all_apps(caller))
    query.visible_to = store::Viewer{caller.sub, caller.groups};

  json items = json::array();
  int total = 0;
  // Tags do not exist yet, so a tag filter matches nothing.
  if (req.query_param("tag").value_or("").empty()) {
    store::AppListResult result = ctx.store.list_apps(query);
    total = result.total;
    for (const auto& app : result.apps) {
      items.push_back(
          app_list_item_json(app, live_status(ctx, app.id), relation_for(ctx.store, caller, app)));
    }
  }
  return json_response(
      200,
      json{{"apps", items}, {"total", total}, {"page", query.page}, {"per_page", query.per_page}});
}

http::Response get_app(ApiContext& ctx, http::Request& req, const Caller& caller) {
  store::App app = require_app(ctx.store, caller, req.params.at("id"), Relation::viewer);
  json j = full_app(ctx, app);
  j["relation"] = relation_name(relation_for(ctx.store, caller, app));
  j["data_mounts"] = json::array();
  return json_response(200, j);
}

http::Response patch_app(ApiContext& ctx, http::Request& req, const Caller& caller) {
  // Body checks come first, as in the original: a malformed body is a 400
  // whatever the app.
  json body = parse_json_body(req);
  AppPatch patch = parse_app_patch(body, ctx.config);
  store::App app = require_app(ctx.store, caller, req.params.at("id"), Relation::collaborator);
  if (patch.needs_owner() && relation_for(ctx.store, caller, app) < Relation::owner) {
    throw ApiError::not_found("app not found");
  }
  if (patch.settings.runtime && caller.role != "admin")
    throw ApiError::forbidden("runtime requires admin");
  const std::string now = store::now_rfc3339();
  // Rename first: when the new name is taken nothing else changes either.
  if (patch.name && *patch.name != app.name) ctx.store.rename_app(app.id, *patch.name, now);
  // Only the fields the client sent are written: a bundle activated or a
  // setting changed meanwhile stays as it is.
  store::App updated = ctx.store.update_app(app.id, patch.settings, now);
  json changes = json::object();
  for (const char* field : {"name", "title", "description", "access_type", "max_workers_per_app",
                            "max_sessions_per_worker", "memory_limit", "cpu_limit",
                            "pre_warmed_sessions", "refresh_schedule", "image", "runtime"}) {
    if (auto it = body.find(field); it != body.end()) changes[field] = *it;
  }
  audit(ctx, req, caller, "app.update", app.id, changes);
  json j = full_app(ctx, updated);
  j["data_mounts"] = json::array();
  return json_response(200, j);
}

// DELETE /apps/{id}: with storage.soft_delete_retention > 0 the app is
// hidden and restorable until the sweeper purges it; otherwise, and with
// ?purge=true (admin, for an app already soft-deleted), it is removed with
// every bundle at once.
http::Response delete_app(ApiContext& ctx, http::Request& req, const Caller& caller) {
  const std::string& key = req.params.at("id");
  if (req.query_param("purge") == "true") {
    require_admin(caller);
    auto app = ctx.store.find_app_including_deleted(key);
    if (!app) throw ApiError::not_found("app not found");
    if (!app->deleted_at) throw ApiError::conflict("app must be soft-deleted before purging");
    ctx.deployer.purge_app(*app);
    audit(ctx, req, caller, "app.purge", app->id, json{{"name", app->name}});
    return http::Response::no_content();
  }
  store::App app = require_app(ctx.store, caller, key, Relation::owner);
  const bool soft = ctx.config.storage.soft_delete_retention.count() > 0;
  if (soft) {
    ctx.workers.stop_app_workers(app.id);
    if (!ctx.store.soft_delete_app(app.id, store::now_rfc3339()))
      throw ApiError::not_found("app not found");
  } else {
    ctx.deployer.purge_app(app);
  }
  audit(ctx, req, caller, "app.delete", app.id, json{{"name", app.name}, {"soft", soft}});
  return http::Response::no_content();
}

// POST /apps/{id}/restore: admins, or the owner of the deleted app.
http::Response restore_app(ApiContext& ctx, http::Request& req, const Caller& caller) {
  auto app = ctx.store.find_app_including_deleted(req.params.at("id"));
  if (!app || !app->deleted_at || (caller.role != "admin" && app->owner != caller.sub))
    throw ApiError::not_found("deleted app not found");
  store::App restored = ctx.store.restore_app(app->id, store::now_rfc3339());
  audit(ctx, req, caller, "app.restore", app->id, json{{"name", app->name}});
  return json_response(200, full_app(ctx, restored));
}

http::Response set_enabled(ApiContext& ctx, http::Request& req, const Caller& caller,
                           bool enabled) {
  store::App app = require_app(ctx.store, caller, req.params.at("id"), Relation::collaborator);
  store::AppUpdate update;
  update.enabled = enabled;
  store::App updated = ctx.store.update_app(app.id, update, store::now_rfc3339());
  // A disabled app answers 503 on the proxy; its workers have nothing to do.
  if (!enabled) ctx.workers.stop_app_workers(app.id);
  audit(ctx, req, caller, enabled ? "app.enable" : "app.disable", app.id, json{{"name", app.name}});
  return json_response(200, full_app(ctx, updated));
}

}  // namespace

void register_app_routes(http::Router& router, ApiContext& ctx) {
  add_route(router, ctx, "POST", "/apps",
            [&ctx](http::Request& r, const Caller& c) { return create_app(ctx, r, c); });
  add_route(router, ctx, "GET", "/apps",
            [&ctx](http::Request& r, const Caller& c) { return list_apps(ctx, r, c); });
  add_route(router, ctx, "GET", "/apps/{id}",
            [&ctx](http::Request& r, const Caller& c) { return get_app(ctx, r, c); });
  add_route(router, ctx, "PATCH", "/apps/{id}",
            [&ctx](http::Request& r, const Caller& c) { return patch_app(ctx, r, c); });
  add_route(router, ctx, "DELETE", "/apps/{id}",
            [&ctx](http::Request& r, const Caller& c) { return delete_app(ctx, r, c); });
  add_route(router, ctx, "POST", "/apps/{id}/restore",
            [&ctx](http::Request& r, const Caller& c) { return restore_app(ctx, r, c); });
  add_route(router, ctx, "POST", "/apps/{id}/enable",
            [&ctx](http::Request& r, const Caller& c) { return set_enabled(ctx, r, c, true); });
  add_route(router, ctx, "POST", "/apps/{id}/disable",
            [&ctx](http::Request& r, const Caller& c) { return set_enabled(ctx, r, c, false); });
}

}  // namespace blockyard::api
