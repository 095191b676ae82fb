// ConnectionCounts: open requests and WebSockets per worker, and when each
// worker last had one: what the idle timeout and a drain wait on. Per
// process by design: the connections are this process's sockets. Kept apart
// from the shared WorkerMap so the request path only touches process memory
// (the worker manager copies idle times into the map once a second).
//
// Thread safety: every method may be called from any thread.
#pragma once

#include <chrono>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>

namespace blockyard::proxy {

class ConnectionCounts {
 public:
  using Clock = std::chrono::steady_clock;
  using WallClock = std::chrono::system_clock;

  struct Activity {
    int open = 0;              // requests in flight and open WebSockets
    Clock::time_point last{};  // when one last started or ended
    WallClock::time_point last_wall{};
  };

  // Registers the worker (or refreshes its activity): counts are kept only
  // for workers touched and not yet forgotten, so a connection to a worker
  // that already ended leaves nothing behind.
  void touch(const std::string& worker_id);
  void opened(const std::string& worker_id);
  void closed(const std::string& worker_id);
  // Unknown workers read as never active.
  std::optional<Activity> get(const std::string& worker_id) const;
  // Open connections over all workers.
  int total() const;
  void forget(const std::string& worker_id);

 private:
  mutable std::mutex mu_;
  std::unordered_map<std::string, Activity> workers_;
};

}  // namespace blockyard::proxy
