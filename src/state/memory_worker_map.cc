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

namespace {

void decrement(std::unordered_map<std::string, int>& counts, const std::string& key) {
  auto it = counts.find(key);
  if (it != counts.end() && --it->second <= 0) counts.erase(it);
}

}  // namespace

AddResult MemoryWorkerMap::add(const WorkerRecord& record, const WorkerLimits& limits) {
  std::lock_guard lock(mu_);
  if (workers_.contains(record.id)) return AddResult::duplicate;
  if (static_cast<int>(workers_.size()) >= limits.max_total) return AddResult::server_full;
  auto serving = serving_.find(record.app_id);
  const int serving_now = serving == serving_.end() ? 0 : serving->second;
  if (limits.max_for_app && serving_now >= *limits.max_for_app) return AddResult::app_full;
  ++per_app_[record.app_id];
  if (!record.draining) ++serving_[record.app_id];
  workers_.emplace(record.id, record);
  return AddResult::added;
}

std::optional<WorkerRecord> MemoryWorkerMap::get(const std::string& id) {
  std::lock_guard lock(mu_);
  auto it = workers_.find(id);
  if (it == workers_.end()) return std::nullopt;
  return it->second;
}

bool MemoryWorkerMap::visit(const std::string& id,
                            const std::function<void(const WorkerRecord&)>& read) {
  std::lock_guard lock(mu_);
  auto it = workers_.find(id);
  if (it == workers_.end()) return false;
  read(it->second);
  return true;
}

bool MemoryWorkerMap::remove(const std::string& id) {
  std::lock_guard lock(mu_);
  auto it = workers_.find(id);
  if (it == workers_.end()) return false;
  decrement(per_app_, it->second.app_id);
  if (!it->second.draining) decrement(serving_, it->second.app_id);
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

bool MemoryWorkerMap::set_committed(const std::string& id) {
  return update(id, [](WorkerRecord& r) {
    r.committed = true;
    return true;
  });
}

std::vector<std::string> MemoryWorkerMap::mark_draining(const std::string& app_id) {
  std::lock_guard lock(mu_);
  std::vector<std::string> marked;
  for (auto& [id, record] : workers_) {
    if (record.app_id != app_id || record.draining) continue;
    record.draining = true;
    decrement(serving_, app_id);
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
  best->committed = false;
  return *best;
}

}  // namespace blockyard::state
