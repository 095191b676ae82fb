// The data plane's shared state, opened as the configuration says: which
// implementation keeps sessions, workers and the worker port and UID ranges.
// Only the memory implementations exist so far; a configuration asking for
// shared state elsewhere is refused rather than quietly served from memory.
//
// What is *not* here stays per process by design (see README "Layout"):
// readiness waiters, the spawn queue, worker logs and their retention, open
// connections per worker, idle upstream sockets, resumable WebSockets.
#pragma once

#include <memory>
#include <string>

#include "state/range_allocator.h"
#include "state/session_store.h"
#include "state/worker_map.h"

namespace blockyard {
struct Config;
}

namespace blockyard::state {

struct DataPlaneState {
  std::string implementation;  // "memory"
  std::string host;            // this host's name: the owner of its claims in the ranges
  std::shared_ptr<SessionStore> sessions;
  std::shared_ptr<WorkerMap> workers;
  std::shared_ptr<RangeAllocator> ports;  // [process] port_range_start..end
  std::shared_ptr<RangeAllocator> uids;   // [process] worker_uid_range_start..end
};

// Throws std::runtime_error naming proxy.session_store when the configured
// (or, for "", the automatically chosen) implementation is not available.
DataPlaneState open_state(const Config& config);

}  // namespace blockyard::state
