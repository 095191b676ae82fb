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
    std::string cause;             // once ended: stopped | failed | exited (proxy/worker_end.h)
    std::string reason;            // why it ended, for the publisher
    std::shared_ptr<LineLog> log;
  };

  WorkerHistory(std::chrono::milliseconds retention, std::size_t log_lines);
  WorkerHistory(const WorkerHistory&) = delete;
  WorkerHistory& operator=(const WorkerHistory&) = delete;

  // A worker is starting; returns the log its output goes to.
  std::shared_ptr<LineLog> started(const std::string& worker_id, const std::string& app_id,
                                   const std::string& bundle_id, Time now);
  // It ended (the first call counts; unknown ids are ignored).
  // `cause` is to_string(EndCause); a worker that failed or exited on its
  // own gets a last log line saying why, for `by logs`.
  void ended(const std::string& worker_id, const std::string& cause, const std::string& reason,
             Time now);

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
