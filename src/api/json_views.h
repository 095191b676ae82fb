// JSON renderings of store rows and worker summaries, in the shapes the API
// documents (api-cli-config.md §1.3). Pure functions.
#pragma once

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "api/relation.h"
#include "api/worker_control.h"
#include "store/models.h"
#include "store/store.h"

namespace blockyard::api {

// What an app's workers did, as the API's "status" and "status_reason".
struct AppStatus {
  std::string status;  // running | failing | stopping | stopped
  std::string reason;  // failing: how its last worker ended ("R exited with code 1 ...")
};

// "running" when a worker is ready (or starting, with no failure since the
// last one ended); "failing" when the worker that ended last failed to start
// or exited on its own and none is ready; "stopping" when every live worker
// is draining; "stopped" with none.
AppStatus app_status(const std::vector<WorkerSummary>& workers);

// Full app object (create, GET, PATCH, enable, disable). Callers add
// "relation" / "data_mounts" where the endpoint documents them.
nlohmann::json app_json(const store::App& app, const AppStatus& status);

// Item of GET /apps.
nlohmann::json app_list_item_json(const store::App& app, const AppStatus& status,
                                  Relation relation);

// Bundle object; "error" is present only when the bundle failed with a reason.
nlohmann::json bundle_json(const store::Bundle& bundle);

// One row of GET /deployments.
nlohmann::json deployment_json(const store::Deployment& deployment);

nlohmann::json user_json(const store::User& user);

// Listing shape (never includes the hash).
nlohmann::json pat_json(const store::PersonalAccessToken& pat);

// One entry of GET /apps/{id}/runtime "workers".
nlohmann::json worker_json(const WorkerSummary& worker);

}  // namespace blockyard::api
