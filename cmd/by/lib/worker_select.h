// Which worker `by logs` follows when the user names none.
#pragma once

#include <nlohmann/json.hpp>
#include <optional>
#include <string>

namespace blockyard::cli {

struct WorkerChoice {
  std::string id;
  size_t active_workers = 0;  // how many were "active" (for the "use --worker" hint)
};

// From a GET /apps/{id}/runtime body: the most recently started "active"
// worker; when none is active, the most recently started worker of any status;
// nullopt when there are no workers. started_at values are RFC 3339 UTC
// strings, which order correctly as text. Malformed entries are skipped.
std::optional<WorkerChoice> select_worker(const nlohmann::json& runtime);

}  // namespace blockyard::cli
