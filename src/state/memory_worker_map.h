// MemoryWorkerMap: the WorkerMap of a single server: a map behind a mutex,
// with the total and per-app counts kept beside it so capacity checks cost
// no scan.
#pragma once

#include <mutex>
#include <unordered_map>

#include "state/worker_map.h"

namespace blockyard::state {

class MemoryWorkerMap final : public WorkerMap {
 public:
  MemoryWorkerMap() = default;
  MemoryWorkerMap(const MemoryWorkerMap&) = delete;
  MemoryWorkerMap& operator=(const MemoryWorkerMap&) = delete;

  bool is_local() const override { return true; }
  AddResult add(const WorkerRecord& record, const WorkerLimits& limits) override;
  std::optional<WorkerRecord> get(const std::string& id) override;
  bool visit(const std::string& id, const std::function<void(const WorkerRecord&)>& read) override;
  bool remove(const std::string& id) override;
  int count() override;
  int count_for_app(const std::string& app_id) override;
  std::vector<WorkerRecord> all() override;
  std::vector<WorkerRecord> for_app(const std::string& app_id) override;
  std::vector<WorkerRecord> for_server(const std::string& server_id) override;
  bool set_endpoint(const std::string& id, const Endpoint& endpoint) override;
  bool set_phase(const std::string& id, WorkerPhase from, WorkerPhase to) override;
  bool set_idle_since(const std::string& id, std::optional<Time> since) override;
  bool set_committed(const std::string& id) override;
  std::vector<std::string> mark_draining(const std::string& app_id) override;
  std::optional<WorkerRecord> claim_unclaimed(const std::string& app_id,
                                              const std::string& bundle_id) override;
  std::vector<WorkerRecord> idle_since_before(Time cutoff) override;

 private:
  template <class Predicate>
  std::vector<WorkerRecord> select(Predicate&& predicate);
  template <class Change>
  bool update(const std::string& id, Change&& change);

  std::mutex mu_;
  std::unordered_map<std::string, WorkerRecord> workers_;
  std::unordered_map<std::string, int> per_app_;  // app id -> workers in the map
  std::unordered_map<std::string, int> serving_;  // app id -> its non-draining workers
};

}  // namespace blockyard::state
