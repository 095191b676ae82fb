#include "state/memory_worker_map.h"

namespace blockyard::state {

const char* to_string(WorkerPhase phase) {
  switch (phase) {
    case WorkerPhase::starting:
      return "starting";
    case WorkerPhase::ready:
      return "ready";
  }
  return "unknown";
}

AddResult MemoryWorkerMap::add(const WorkerRecord& record, const WorkerLimits& limits) {
  std::lock_guard lock(mu_);
  if (workers_.contains(record.id)) return AddResult::duplicate;
  if (static_cast<int>(workers_.size()) >= limits.max_total) return AddResult::server_full;
  int& for_app = per_app_[record.app_id];
  if (limits.max_for_app && for_app >= *limits.max_for_app) {
    if (for_app == 0) per_app_.erase(record.app_id);
    return AddResult::app_full;
  }
  ++for_app;
  workers_.emplace(record.id, record);
  return AddResult::added;
}

std::optional<WorkerRecord> MemoryWorkerMap::get(const std::string& id) {
  std::lock_guard lock(mu_);
  auto it = workers_.find(id);
  if (it == workers_.end()) return std::nullopt;
  return it->second;
}

bool MemoryWorkerMap::remove(const std::string& id) {
  std::lock_guard lock(mu_);
  auto it = workers_.find(id);
  if (it == workers_.end()) return false;
  auto app = per_app_.find(it->second.app_id);
  if (--app->second == 0) per_app_.erase(app);
  workers_.erase(it);
  return true;
}

int MemoryWorkerMap::count() {
  std::lock_guard lock(mu_);
  return static_cast<int>(workers_.size());
}

int MemoryWorkerMap::count_for_app(const std::string& app_id) {
  std::lock_guard lock(mu_);
  auto it = per_app_.find(app_id);
  return it == per_app_.end() ? 0 : it->second;
}

template <class Predicate>
std::vector<WorkerRecord> MemoryWorkerMap::select(Predicate&& predicate) {
  std::lock_guard lock(mu_);
  std::vector<WorkerRecord> out;
  for (const auto& [id, record] : workers_)
    if (predicate(record)) out.push_back(record);
  return out;
}

std::vector<WorkerRecord> MemoryWorkerMap::all() {
  return select([](const WorkerRecord&) { return true; });
}

std::vector<WorkerRecord> MemoryWorkerMap::for_app(const std::string& app_id) {
  return select([&](const WorkerRecord& r) { return r.app_id == app_id; });
}

std::vector<WorkerRecord> MemoryWorkerMap::for_server(const std::string& server_id) {
  return select([&](const WorkerRecord& r) { return r.server_id == server_id; });
}

std::vector<WorkerRecord> MemoryWorkerMap::idle_since_before(Time cutoff) {
  return select([&](const WorkerRecord& r) { return r.idle_since && *r.idle_since <= cutoff; });
}

template <class Change>
bool MemoryWorkerMap::update(const std::string& id, Change&& change) {
  std::lock_guard lock(mu_);
  auto it = workers_.find(id);
  return it != workers_.end() && change(it->second);
}

bool MemoryWorkerMap::set_endpoint(const std::string& id, const Endpoint& endpoint) {
  return update(id, [&](WorkerRecord& r) {
    r.endpoint = endpoint;
    return true;
  });
}

bool MemoryWorkerMap::set_phase(const std::string& id, WorkerPhase from, WorkerPhase to) {
  return update(id, [&](WorkerRecord& r) {
    if (r.phase != from) return false;
    r.phase = to;
    return true;
  });
}

bool MemoryWorkerMap::set_idle_since(const std::string& id, std::optional<Time> since) {
  return update(id, [&](WorkerRecord& r) {
    r.idle_since = since;
    return true;
  });
}

std::vector<std::string> MemoryWorkerMap::mark_draining(const std::string& app_id) {
  std::lock_guard lock(mu_);
  std::vector<std::string> marked;
  for (auto& [id, record] : workers_) {
    if (record.app_id != app_id || record.draining) continue;
    record.draining = true;
    marked.push_back(id);
  }
  return marked;
}

std::optional<WorkerRecord> MemoryWorkerMap::claim_unclaimed(const std::string& app_id,
                                                             const std::string& bundle_id) {
  std::lock_guard lock(mu_);
  WorkerRecord* best = nullptr;
  for (auto& [id, record] : workers_) {
    if (!record.unclaimed || record.draining || record.app_id != app_id ||
        record.bundle_id != bundle_id)
      continue;
    if (!best || (record.phase == WorkerPhase::ready && best->phase != WorkerPhase::ready))
      best = &record;
  }
  if (!best) return std::nullopt;
  best->unclaimed = false;
  return *best;
}

}  // namespace blockyard::state
