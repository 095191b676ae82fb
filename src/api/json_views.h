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

// "stopped" (no live worker), "running" (a live worker that is not
// draining) or "stopping" (every live worker is draining).
std::string app_status(const std::vector<WorkerSummary>& workers);

// Full app object (create, GET, PATCH, enable, disable). Callers add
// "relation" / "data_mounts" where the endpoint documents them.
nlohmann::json app_json(const store::App& app, const std::string& status);

// Item of GET /apps.
nlohmann::json app_list_item_json(const store::App& app, const std::string& status,
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
