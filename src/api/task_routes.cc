// /api/v1/tasks/{id}[/logs] and /api/v1/apps/{id}/logs (worker output).
#include <nlohmann/json.hpp>

#include "api/log_stream.h"
#include "api/relation.h"
#include "api/route_helpers.h"
#include "api/routes.h"
#include "core/error.h"

namespace blockyard::api {

using nlohmann::json;

namespace {

// The task, if the caller may see it: app tasks need a relation to the app,
// tasks with no app (server administration) need the admin role.
tasks::Task visible_task(ApiContext& ctx, const std::string& id, const Caller& caller) {
  auto task = ctx.tasks.get(id);
  if (!task) throw ApiError::not_found("task " + id + " not found");
  if (task->app_id.empty()) {
    require_admin(caller);
  } else {
    require_app(ctx.store, caller, task->app_id, Relation::viewer);
  }
  return *task;
}

http::Response task_status(ApiContext& ctx, http::Request& req, const Caller& caller) {
  tasks::Task task = visible_task(ctx, req.params.at("task_id"), caller);
  return json_response(
      200, json{{"id", task.id}, {"status", task.status}, {"created_at", task.created_at}});
}

http::Response task_logs(ApiContext& ctx, http::Request& req, const Caller& caller) {
  tasks::Task task = visible_task(ctx, req.params.at("task_id"), caller);
  return log_response(task.log, /*follow=*/true);
}

http::Response app_logs(ApiContext& ctx, http::Request& req, const Caller& caller) {
  store::App app = require_app(ctx.store, caller, req.params.at("id"), Relation::collaborator);
  std::string worker_id = req.query_param("worker_id").value_or("");
  if (worker_id.empty()) throw ApiError::bad_request("worker_id query parameter is required");
  const WorkerSummary* worker = nullptr;
  auto workers = ctx.workers.workers_for_app(app.id);
  for (const auto& w : workers) {
    if (w.id == worker_id) worker = &w;
  }
  if (worker == nullptr) throw ApiError::not_found("worker not found for app");
  auto log = ctx.workers.worker_log(app.id, worker_id);
  if (!log) throw ApiError::not_found("no logs for worker " + worker_id);
  bool follow = worker->status != "ended" && req.query_param("stream") != "false";
  return log_response(log, follow);
}

}  // namespace

void register_task_routes(http::Router& router, ApiContext& ctx) {
  add_route(router, ctx, "GET", "/tasks/{task_id}",
            [&ctx](http::Request& r, const Caller& c) { return task_status(ctx, r, c); });
  add_route(router, ctx, "GET", "/tasks/{task_id}/logs",
            [&ctx](http::Request& r, const Caller& c) { return task_logs(ctx, r, c); });
  add_route(router, ctx, "GET", "/apps/{id}/logs",
            [&ctx](http::Request& r, const Caller& c) { return app_logs(ctx, r, c); });
}

}  // namespace blockyard::api
