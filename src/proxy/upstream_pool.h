// UpstreamPool: idle keep-alive connections to workers, so a page load's many
// requests reuse a few connections instead of connecting for each one. A
// worker's connections go when it ends (drop, on the "worker ended" event),
// and a connection given back after that (a response still being relayed
// when its worker ended) is closed instead of kept.
//
// Thread safety: all methods may be called from any thread.
#pragma once

#include <deque>
#include <map>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "proxy/upstream.h"

namespace blockyard::proxy {

class UpstreamPool {
 public:
  // As many as a busy client's parallel requests (browsers open 6, load
  // generators dozens): fewer would close and reconnect under load.
  explicit UpstreamPool(std::size_t max_idle_per_worker = 64)
      : max_idle_per_worker_(max_idle_per_worker) {}

  // An idle connection to the worker, if any; with `check_open`, only one
  // the worker has not closed (one more system call).
  std::optional<UpstreamSocket> take(const std::string& worker_id, bool check_open = true);
  // Returns a connection after a complete response that allows reuse.
  void give(const std::string& worker_id, UpstreamSocket socket);
  // Forgets (closes) every idle connection to a worker that has gone.
  void drop(const std::string& worker_id);
  // Workers with idle connections (tests).
  std::size_t workers_held();

 private:
  // Ended workers remembered, so that give() refuses them; ids are never
  // reused, and the oldest are forgotten first.
  static constexpr std::size_t kRememberedEnds = 4096;

  const std::size_t max_idle_per_worker_;
  std::mutex mu_;
  std::map<std::string, std::vector<UpstreamSocket>> idle_;
  std::set<std::string> ended_;
  std::deque<std::string> ended_order_;
};

}  // namespace blockyard::proxy
