// How a worker's log stream ended, for `by logs -f`: the server closes the
// stream when the worker ends, and the runtime view says why.
#pragma once

#include <nlohmann/json.hpp>
#include <optional>
#include <string>

namespace blockyard::cli {

struct WorkerEnd {
  std::string message;  // "worker 0123abcd ended: exited with code 1"
  bool died = false;    // failed to start or exited on its own (not stopped by the server)
};

// From a GET /apps/{id}/runtime body: how `worker_id` ended, nullopt while it
// still runs. A worker missing from the view ended long enough ago that the
// server forgot it (log retention); that is reported without a cause.
std::optional<WorkerEnd> worker_end(const nlohmann::json& runtime, const std::string& worker_id);

}  // namespace blockyard::cli
