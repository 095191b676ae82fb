#include "state/open_state.h"

#include <unistd.h>

#include <stdexcept>

#include "core/config.h"
#include "state/memory_range_allocator.h"
#include "state/memory_session_store.h"
#include "state/memory_worker_map.h"

namespace blockyard::state {

namespace {

// What proxy.session_store = "" resolves to, as the original chooses it.
std::string automatic_choice(const Config& config) {
  const bool postgres = config.database.driver == "postgres";
  if (config.redis && postgres) return "layered";
  if (config.redis) return "redis";
  if (postgres) return "postgres";
  return "memory";
}

// Claims in a shared range are made in this host's name.
std::string host_name() {
  char name[256] = {};
  if (::gethostname(name, sizeof name - 1) != 0 || name[0] == '\0') return "localhost";
  return name;
}

}  // namespace

DataPlaneState open_state(const Config& config) {
  const std::string& configured = config.proxy.session_store;
  const std::string chosen = configured.empty() ? automatic_choice(config) : configured;
  if (chosen != "memory") {
    const std::string why =
        configured.empty() ? " (chosen automatically because " +
                                 std::string(config.redis ? "[redis] is configured"
                                                          : "database.driver is \"postgres\"") +
                                 ")"
                           : "";
    throw std::runtime_error("proxy.session_store = \"" + chosen + "\"" + why +
                             ": shared session and worker state outside this process is not "
                             "supported by this version; set proxy.session_store = \"memory\"");
  }
  const ProcessConfig process = config.process.value_or(ProcessConfig{});
  DataPlaneState state;
  state.implementation = chosen;
  state.sessions = std::make_shared<MemorySessionStore>();
  state.workers = std::make_shared<MemoryWorkerMap>();
  const std::string owner = host_name();
  state.host = owner;
  state.ports = std::make_shared<MemoryRangeAllocator>(
      std::make_shared<MemoryRange>(process.port_range_start, process.port_range_end), owner);
  state.uids = std::make_shared<MemoryRangeAllocator>(
      std::make_shared<MemoryRange>(process.worker_uid_range_start, process.worker_uid_range_end),
      owner);
  return state;
}

}  // namespace blockyard::state
