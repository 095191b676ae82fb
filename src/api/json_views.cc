#include "api/json_views.h"

#include <algorithm>

namespace blockyard::api {

using nlohmann::json;

namespace {

template <typename T>
json or_null(const std::optional<T>& value) {
  return value ? json(*value) : json(nullptr);
}

}  // namespace

AppStatus app_status(const std::vector<WorkerSummary>& workers) {
  bool ready = false, starting = false, draining = false;
  const WorkerSummary* last_ended = nullptr;
  for (const auto& w : workers) {
    if (w.status == "ready" || w.status == "active") ready = true;
    if (w.status == "starting") starting = true;
    if (w.status == "draining") draining = true;
    if ((w.status == "ended" || w.status == "failed") && w.ended_at &&
        (last_ended == nullptr || *w.ended_at > *last_ended->ended_at)) {
      last_ended = &w;
    }
  }
  if (ready) return {"running", ""};
  if (last_ended && (last_ended->end_cause == "failed" || last_ended->end_cause == "exited")) {
    return {"failing", last_ended->end_reason};
  }
  if (starting) return {"running", ""};
  if (draining) return {"stopping", ""};
  return {"stopped", ""};
}

static json status_reason(const AppStatus& status) {
  return status.reason.empty() ? json(nullptr) : json(status.reason);
}

json app_json(const store::App& app, const AppStatus& status) {
  return json{
      {"id", app.id},
      {"name", app.name},
      {"owner", app.owner},
      {"access_type", app.access_type},
      {"active_bundle", or_null(app.active_bundle)},
      {"max_workers_per_app", or_null(app.max_workers_per_app)},
      {"max_sessions_per_worker", app.max_sessions_per_worker},
      {"memory_limit", or_null(app.memory_limit)},
      {"cpu_limit", or_null(app.cpu_limit)},
      {"title", or_null(app.title)},
      {"description", or_null(app.description)},
      {"pre_warmed_sessions", app.pre_warmed_sessions},
      {"enabled", app.enabled},
      {"refresh_schedule", app.refresh_schedule},
      {"image", app.image},
      {"runtime", app.runtime},
      {"created_at", app.created_at},
      {"updated_at", app.updated_at},
      {"status", status.status},
      {"status_reason", status_reason(status)},
      {"tags", json::array()},  // tags are not implemented yet
  };
}

json app_list_item_json(const store::App& app, const AppStatus& status, Relation relation) {
  return json{
      {"id", app.id},
      {"name", app.name},
      {"owner", app.owner},
      {"access_type", app.access_type},
      {"active_bundle", or_null(app.active_bundle)},
      {"title", or_null(app.title)},
      {"description", or_null(app.description)},
      {"enabled", app.enabled},
      {"status", status.status},
      {"status_reason", status_reason(status)},
      {"relation", std::string(relation_name(relation))},
      {"tags", json::array()},
      {"created_at", app.created_at},
      {"updated_at", app.updated_at},
  };
}

json bundle_json(const store::Bundle& bundle) {
  json j{
      {"id", bundle.id},
      {"app_id", bundle.app_id},
      {"status", bundle.status},
      {"uploaded_at", bundle.uploaded_at},
      {"deployed_by", or_null(bundle.deployed_by)},
      {"deployed_at", or_null(bundle.deployed_at)},
      {"pinned", bundle.pinned},
  };
  if (bundle.error) j["error"] = *bundle.error;
  return j;
}

json deployment_json(const store::Deployment& d) {
  return json{{"app_id", d.app_id},
              {"app_name", d.app_name},
              {"bundle_id", d.bundle_id},
              {"deployed_by", or_null(d.deployed_by)},
              {"deployed_by_name", or_null(d.deployed_by_name)},
              {"deployed_at", or_null(d.deployed_at)},
              {"status", d.status}};
}

json user_json(const store::User& user) {
  return json{
      {"sub", user.sub},   {"email", user.email},   {"name", user.name},
      {"role", user.role}, {"active", user.active}, {"last_login", or_null(user.last_login)},
  };
}

json pat_json(const store::PersonalAccessToken& pat) {
  return json{
      {"id", pat.id},
      {"user_sub", pat.user_sub},
      {"name", pat.name},
      {"created_at", pat.created_at},
      {"expires_at", or_null(pat.expires_at)},
      {"last_used_at", or_null(pat.last_used_at)},
      {"revoked", pat.revoked},
  };
}

json worker_json(const WorkerSummary& worker) {
  json sessions = json::array();
  for (const auto& id : worker.session_ids) {
    // The data plane does not report who holds a session or since when yet.
    sessions.push_back(json{{"id", id}, {"user_sub", nullptr}});
  }
  json j{
      {"id", worker.id},
      {"bundle_id", worker.bundle_id},
      {"status", worker.status},
      {"started_at", worker.started_at},
      {"stats", worker.stats ? json{{"cpu_percent", worker.stats->cpu_percent},
                                    {"cpu_seconds", worker.stats->cpu_seconds},
                                    {"memory_usage_bytes", worker.stats->memory_bytes},
                                    {"memory_limit_bytes", worker.stats->memory_limit_bytes},
                                    {"processes", worker.stats->processes}}
                             : json(nullptr)},
      {"sessions", sessions},
  };
  if (worker.ended_at) {
    j["ended_at"] = *worker.ended_at;
  } else {
    j["committed"] = worker.committed;
  }
  if (!worker.end_cause.empty()) {
    j["end_cause"] = worker.end_cause;
    j["end_reason"] = worker.end_reason;
  }
  if (worker.idle_since) j["idle_since"] = *worker.idle_since;
  return j;
}

}  // namespace blockyard::api
