// UpstreamPool: idle keep-alive connections to workers, so a page load's many
// requests reuse a few connections instead of connecting for each one. A
// worker's connections go when it ends (drop, on the "worker ended" event).
//
// Thread safety: all methods may be called from any thread.
#pragma once

#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "proxy/upstream.h"

namespace blockyard::proxy {

class UpstreamPool {
 public:
  explicit UpstreamPool(std::size_t max_idle_per_worker = 16)
      : max_idle_per_worker_(max_idle_per_worker) {}

  // An idle connection to the worker that is still open, if any.
  std::optional<UpstreamSocket> take(const std::string& worker_id);
  // Returns a connection after a complete response that allows reuse.
  void give(const std::string& worker_id, UpstreamSocket socket);
  // Forgets (closes) every idle connection to a worker that has gone.
  void drop(const std::string& worker_id);

 private:
  const std::size_t max_idle_per_worker_;
  std::mutex mu_;
  std::map<std::string, std::vector<UpstreamSocket>> idle_;
};

}  // namespace blockyard::proxy
