#include "proxy/worker_history.h"

namespace blockyard::proxy {

WorkerHistory::WorkerHistory(std::chrono::milliseconds retention, std::size_t log_lines)
    : retention_(retention), log_lines_(log_lines) {}

std::shared_ptr<LineLog> WorkerHistory::started(const std::string& worker_id,
                                                const std::string& app_id,
                                                const std::string& bundle_id, Time now) {
  Entry entry;
  entry.worker_id = worker_id;
  entry.app_id = app_id;
  entry.bundle_id = bundle_id;
  entry.started_at = now;
  entry.log = std::make_shared<LineLog>(log_lines_);
  std::lock_guard lock(mu_);
  return entries_.insert_or_assign(worker_id, std::move(entry)).first->second.log;
}

void WorkerHistory::ended(const std::string& worker_id, const std::string& cause,
                          const std::string& reason, Time now) {
  std::shared_ptr<LineLog> log;
  const bool failed = cause == "failed";
  {
    std::lock_guard lock(mu_);
    auto it = entries_.find(worker_id);
    if (it == entries_.end() || it->second.ended_at) return;
    it->second.ended_at = now;
    it->second.failed = failed;
    it->second.failure = failed ? reason : "";
    it->second.cause = cause;
    it->second.reason = reason;
    if (cause != "stopped") log = it->second.log;
  }
  if (log) {
    log->append(std::string("[blockyard] worker ") + (failed ? "failed to start: " : "ended: ") +
                reason);
  }
}

std::optional<WorkerHistory::Entry> WorkerHistory::find(const std::string& worker_id) const {
  std::lock_guard lock(mu_);
  auto it = entries_.find(worker_id);
  if (it == entries_.end()) return std::nullopt;
  return it->second;
}

std::vector<WorkerHistory::Entry> WorkerHistory::ended_for_app(const std::string& app_id) const {
  std::lock_guard lock(mu_);
  std::vector<Entry> out;
  for (const auto& [id, entry] : entries_)
    if (entry.app_id == app_id && entry.ended_at) out.push_back(entry);
  return out;
}

std::vector<WorkerHistory::Entry> WorkerHistory::prune(Time now) {
  std::lock_guard lock(mu_);
  std::vector<Entry> forgotten;
  for (auto it = entries_.begin(); it != entries_.end();) {
    if (it->second.ended_at && now - *it->second.ended_at >= retention_) {
      forgotten.push_back(std::move(it->second));
      it = entries_.erase(it);
    } else {
      ++it;
    }
  }
  return forgotten;
}

std::size_t WorkerHistory::size() const {
  std::lock_guard lock(mu_);
  return entries_.size();
}

}  // namespace blockyard::proxy
