// Backend: how workers (one sandboxed R process each) are started, watched and
// stopped. The proxy and the API depend only on this interface; the process
// backend (backend/process/) is the first implementation.
//
// Thread safety: all methods may be called concurrently from any thread.
#pragma once

#include <filesystem>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "core/line_log.h"

namespace blockyard::backend {

// Where a worker serves HTTP: TCP host:port now; a Unix socket once workers
// get their own network namespace.
struct Endpoint {
  std::string host = "127.0.0.1";
  int port = 0;
  std::string unix_path;  // non-empty = Unix domain socket, host/port unused

  bool is_unix() const { return !unix_path.empty(); }
  std::string to_string() const {
    return is_unix() ? "unix:" + unix_path : host + ":" + std::to_string(port);
  }
};

struct WorkerSpec {
  std::string worker_id;
  std::string app_id;
  std::string bundle_id;
  std::filesystem::path bundle_path;       // host directory of the unpacked bundle
  std::map<std::string, std::string> env;  // extra environment (server.worker_env)
  // Per-worker limits (app settings); empty / 0 = the backend's default.
  std::string memory_limit;  // e.g. "512m", parsed with parse_memory_size()
  double cpu_limit = 0;      // vCPUs
  int pids_limit = 0;        // processes and threads
};

// What a backend can enforce on this host (for preflight and warnings).
struct LimitsSupport {
  std::string cgroup_mode = "none";  // "v2", "v1" or "none"
  bool memory = false;               // per-worker memory limit
  bool cpu = false;                  // per-worker CPU quota
  bool pids = false;                 // per-worker process count (cgroup)
  bool distinct_uids = false;        // each worker under its own host UID (root)
  bool rlimit_nproc = false;         // RLIMIT_NPROC per worker (needs distinct UIDs)
  bool seccomp = false;              // an inner seccomp filter is loaded
  std::string detail;                // where the groups live, or why not
};

struct WorkerStatus {
  std::string worker_id;
  std::string app_id;
  std::string bundle_id;
  Endpoint endpoint;
  int pid = 0;           // host pid of the sandbox's top process
  bool running = false;  // false once the process tree has exited
  int exit_code = -1;    // valid when !running; 128+signal for a signal death
  std::string started_at;
};

class Backend {
 public:
  virtual ~Backend() = default;

  // Starts the worker and returns its endpoint as soon as the process runs;
  // readiness is health_check()'s job. Throws std::runtime_error with the
  // reason when the worker cannot be started; nothing is leaked then.
  virtual Endpoint spawn(const WorkerSpec& spec) = 0;

  // SIGTERM to the sandbox, SIGKILL after `grace_ms`, the whole tree reaped.
  // Idempotent; unknown ids are ignored.
  virtual void stop(const std::string& worker_id, int grace_ms = 5000) = 0;

  // True when the worker answers HTTP on its endpoint.
  virtual bool health_check(const std::string& worker_id) = 0;

  virtual std::optional<WorkerStatus> status(const std::string& worker_id) = 0;
  virtual std::vector<WorkerStatus> list_managed() = 0;

  // The worker's stdout/stderr lines (kept after exit); null for unknown ids.
  virtual std::shared_ptr<LineLog> logs(const std::string& worker_id) = 0;

  // Stops every worker (shutdown).
  virtual void stop_all(int grace_ms = 5000) = 0;

  // Start-up: kills what a crashed predecessor left running (workers and
  // their helpers), removes its per-worker state and releases its claims.
  // Call once, before the first spawn. Returns the processes killed.
  virtual std::size_t cleanup_orphans() { return 0; }

  // What this backend enforces on this host.
  virtual LimitsSupport limits_support() const { return {}; }
};

}  // namespace blockyard::backend
