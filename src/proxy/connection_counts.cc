#include "proxy/connection_counts.h"

namespace blockyard::proxy {

namespace {

void stamp(ConnectionCounts::Activity& a) {
  a.last = ConnectionCounts::Clock::now();
  a.last_wall = ConnectionCounts::WallClock::now();
}

}  // namespace

void ConnectionCounts::touch(const std::string& worker_id) {
  std::lock_guard lock(mu_);
  stamp(workers_[worker_id]);
}

void ConnectionCounts::opened(const std::string& worker_id) {
  std::lock_guard lock(mu_);
  auto it = workers_.find(worker_id);
  if (it == workers_.end()) return;  // ended (or never ours): nothing to keep
  ++it->second.open;
  stamp(it->second);
}

void ConnectionCounts::closed(const std::string& worker_id) {
  std::lock_guard lock(mu_);
  auto it = workers_.find(worker_id);
  if (it == workers_.end()) return;  // the worker ended meanwhile
  if (it->second.open > 0) --it->second.open;
  stamp(it->second);
}

std::optional<ConnectionCounts::Activity> ConnectionCounts::get(
    const std::string& worker_id) const {
  std::lock_guard lock(mu_);
  auto it = workers_.find(worker_id);
  if (it == workers_.end()) return std::nullopt;
  return it->second;
}

int ConnectionCounts::total() const {
  std::lock_guard lock(mu_);
  int n = 0;
  for (const auto& [id, a] : workers_) n += a.open;
  return n;
}

void ConnectionCounts::forget(const std::string& worker_id) {
  std::lock_guard lock(mu_);
  workers_.erase(worker_id);
}

}  // namespace blockyard::proxy
