// WorkerHistory: what this process keeps of the workers it started, beyond
// the shared WorkerMap: each worker's output log, and, once it ended, how and
// when — for [proxy] log_retention, so `by logs` and the API can still show
// it. Per process by design: the log is this process's pipe from the worker.
//
// Thread safety: every method may be called from any thread.
#pragma once

#include <chrono>
#include <cstddef>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "core/line_log.h"

namespace blockyard::proxy {

class WorkerHistory {
 public:
  using Time = std::chrono::system_clock::time_point;

  struct Entry {
    std::string worker_id;
    std::string app_id;
    std::string bundle_id;
    Time started_at{};
    std::optional<Time> ended_at;  // set once it ended
    bool failed = false;           // ended without ever becoming ready
    std::string failure;           // why it failed (for the loading page)
    std::shared_ptr<LineLog> log;
  };

  WorkerHistory(std::chrono::milliseconds retention, std::size_t log_lines);
  WorkerHistory(const WorkerHistory&) = delete;
  WorkerHistory& operator=(const WorkerHistory&) = delete;

  // A worker is starting; returns the log its output goes to.
  std::shared_ptr<LineLog> started(const std::string& worker_id, const std::string& app_id,
                                   const std::string& bundle_id, Time now);
  // It ended (the first call counts; unknown ids are ignored).
  void ended(const std::string& worker_id, bool failed, const std::string& failure, Time now);

  std::optional<Entry> find(const std::string& worker_id) const;
  // Ended workers of the app still within retention.
  std::vector<Entry> ended_for_app(const std::string& app_id) const;
  // Forgets workers that ended at least `retention` before `now`; returns
  // what it forgot.
  std::vector<Entry> prune(Time now);
  std::size_t size() const;

 private:
  const std::chrono::milliseconds retention_;
  const std::size_t log_lines_;
  mutable std::mutex mu_;
  std::map<std::string, Entry> entries_;
};

}  // namespace blockyard::proxy
