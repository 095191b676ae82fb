// WorkerControl: what the control plane may ask of the data plane about
// running workers. Implemented by the proxy's worker manager; the API and
// bundle activation depend only on this interface.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "backend/backend.h"
#include "core/line_log.h"

namespace blockyard::api {

struct WorkerSummary {
  std::string id;
  std::string app_id;
  std::string bundle_id;
  std::string status;  // starting | active | draining | ended
  std::string started_at;
  std::optional<std::string> ended_at;
  std::optional<std::string> idle_since;
  std::vector<std::string> session_ids;
  std::optional<backend::ResourceUsage> stats;  // live workers, when the backend can sample
  std::string end_cause;                        // "" while live; stopped | failed | exited
  std::string end_reason;  // for the publisher: "R exited with code 1 during start-up"
  // A live worker that a Shiny WebSocket reached (it belongs to its session);
  // an uncommitted one goes after proxy.session_commit_grace.
  bool committed = false;
};

class WorkerControl {
 public:
  virtual ~WorkerControl() = default;
  // Live workers of the app first, then ended workers whose logs are retained.
  virtual std::vector<WorkerSummary> workers_for_app(const std::string& app_id) = 0;
  // Logs of a live or retained worker of this app; null if unknown.
  virtual std::shared_ptr<LineLog> worker_log(const std::string& app_id,
                                              const std::string& worker_id) = 0;
  // Stops every worker of the app now (delete, disable).
  virtual void stop_app_workers(const std::string& app_id) = 0;
  // A new bundle became active: existing sessions keep their workers, new
  // sessions go to the new bundle, old workers stop when their sessions end.
  virtual void drain_app_workers(const std::string& app_id) = 0;
};

}  // namespace blockyard::api
