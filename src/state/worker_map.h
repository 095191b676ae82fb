// WorkerMap: the workers of the data plane, by id: which app and bundle each
// runs, where it serves, which server started it, whether it is starting or
// ready, draining, waiting pre-warmed for a session, and since when it has
// been idle. Like the sessions this is shared state (several servers see the
// same workers; a Redis implementation comes later), so every decision that
// must hold across servers is one call: add() checks the capacity limits and
// inserts atomically, set_phase() is a compare-and-set, claim_unclaimed()
// hands a pre-warmed worker to exactly one caller.
//
// Only live workers are here (from reservation until they end); what is kept
// of ended workers (logs, how they ended) is per process (proxy/worker_history.h).
//
// The contract below is what worker_map_conformance.h checks. Times are kept
// to whole seconds at least.
//
// Thread safety: every method may be called from any thread.
// Failure: the memory implementation never fails; one backed by a service
// throws std::runtime_error when it cannot reach it.
#pragma once

#include <chrono>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "core/endpoint.h"

namespace blockyard::state {

using Time = std::chrono::system_clock::time_point;

enum class WorkerPhase {
  starting,  // reserved or spawned, not answering HTTP yet
  ready,     // answering HTTP
};

struct WorkerRecord {
  std::string id;
  std::string app_id;
  std::string bundle_id;
  std::string server_id;  // the server process that started it
  Endpoint endpoint;      // empty until the backend started it
  WorkerPhase phase = WorkerPhase::starting;
  bool draining = false;   // its bundle was replaced: keeps its sessions, gets no new ones
  bool unclaimed = false;  // pre-warmed: started ahead of demand, no session yet
  // Its session's WebSocket connected: a live Shiny client holds it. Until
  // then it may be reclaimed for another session (crawlers, curl, link
  // previews never get this far).
  bool committed = false;
  Time started_at{};
  std::optional<Time> idle_since;  // no open request or socket since then

  friend bool operator==(const WorkerRecord&, const WorkerRecord&) = default;
};

// Capacity limits add() enforces. The total counts every worker in the map;
// the per-app limit counts the app's workers that are not draining, so
// sessions of a replaced bundle never keep the new one from starting.
struct WorkerLimits {
  int max_total = 0;               // [proxy] max_workers
  std::optional<int> max_for_app;  // the app's max_workers_per_app; nullopt = no limit
};

enum class AddResult { added, server_full, app_full, duplicate };

class WorkerMap {
 public:
  virtual ~WorkerMap() = default;

  // True when every call is answered from this process's memory without
  // blocking on I/O.
  virtual bool is_local() const = 0;

  // Inserts `record` if, counted atomically with the insert, the map holds
  // fewer than limits.max_total workers and fewer than limits.max_for_app
  // non-draining workers of record.app_id. An id already present is
  // `duplicate` (nothing changes).
  virtual AddResult add(const WorkerRecord& record, const WorkerLimits& limits) = 0;
  virtual std::optional<WorkerRecord> get(const std::string& id) = 0;
  // Shows the record to `read` without copying it out (the proxy looks one
  // up per request); false when there is none. `read` must not call back
  // into the map. The default copies it through get().
  virtual bool visit(const std::string& id, const std::function<void(const WorkerRecord&)>& read) {
    auto record = get(id);
    if (record) read(*record);
    return record.has_value();
  }
  // False when there was no such worker.
  virtual bool remove(const std::string& id) = 0;

  virtual int count() = 0;
  // Every worker of the app, draining ones included.
  virtual int count_for_app(const std::string& app_id) = 0;
  // Unordered.
  virtual std::vector<WorkerRecord> all() = 0;
  virtual std::vector<WorkerRecord> for_app(const std::string& app_id) = 0;
  virtual std::vector<WorkerRecord> for_server(const std::string& server_id) = 0;

  // Single-field updates. Each returns false, and creates nothing, when the
  // worker is not in the map.
  virtual bool set_endpoint(const std::string& id, const Endpoint& endpoint) = 0;
  // Compare-and-set: only when the current phase is `from`.
  virtual bool set_phase(const std::string& id, WorkerPhase from, WorkerPhase to) = 0;
  virtual bool set_idle_since(const std::string& id, std::optional<Time> since) = 0;
  // committed = true (a no-op when it already is).
  virtual bool set_committed(const std::string& id) = 0;

  // Marks every worker of the app draining; returns the ids it marked now
  // (workers already draining are not listed again). They stop counting
  // toward the app's limit.
  virtual std::vector<std::string> mark_draining(const std::string& app_id) = 0;
  // Takes one unclaimed, non-draining worker of the app running `bundle_id`
  // (a ready one before a starting one) and clears its unclaimed flag; the
  // record as it is now, or nullopt when there is none. Each worker is
  // handed to one caller only. The claimed worker is not committed until its
  // new session's WebSocket connects.
  virtual std::optional<WorkerRecord> claim_unclaimed(const std::string& app_id,
                                                      const std::string& bundle_id) = 0;
  // Workers whose idle_since is set and not after `cutoff`.
  virtual std::vector<WorkerRecord> idle_since_before(Time cutoff) = 0;
};

const char* to_string(WorkerPhase phase);

}  // namespace blockyard::state
