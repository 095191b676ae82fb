// Backend: how workers (one sandboxed R process each) are started, watched and
// stopped. The proxy and the API depend only on this interface; the process
// backend (backend/process/) is the first implementation.
//
// The backend's table holds what it needs to run a worker (its processes and
// claims) from spawn() until stop(): a worker that exited on its own stays
// listed (running = false, with its exit code) until its owner calls stop(),
// which it does when it learns of the exit (WorkerSpec::on_exit). Nothing is
// kept after that: the worker's record, log and history belong to the caller.
//
// Thread safety: all methods may be called concurrently from any thread.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include "core/endpoint.h"
#include "core/line_log.h"

namespace blockyard::backend {

// Where a worker serves HTTP (TCP or a Unix socket): core/endpoint.h.
using Endpoint = ::blockyard::Endpoint;

// A read-only (or, for build jobs, writable) bind of a host directory.
struct BuildMount {
  std::filesystem::path source;  // host directory
  std::filesystem::path target;  // absolute path inside the sandbox
  bool read_only = true;
};

struct WorkerSpec {
  std::string worker_id;
  std::string app_id;
  std::string bundle_id;
  std::filesystem::path bundle_path;       // host directory of the unpacked bundle
  std::map<std::string, std::string> env;  // extra environment (server.worker_env)
  // More read-only binds after the bundle (the package store); writable
  // mounts are refused.
  std::vector<BuildMount> mounts;
  // The R that runs the app (Rscript beside it); empty = the backend's.
  std::filesystem::path r_path;
  // Per-worker limits (app settings); empty / 0 = the backend's default.
  std::string memory_limit;  // e.g. "512m", parsed with parse_memory_size()
  double cpu_limit = 0;      // vCPUs
  int pids_limit = 0;        // processes and threads
  // Receives the worker's stdout/stderr lines and is closed when it exits;
  // the caller keeps it as long as it wants the lines. Null = the backend
  // makes one (logs() returns it).
  std::shared_ptr<LineLog> log;
  // Called once, on a backend thread, when the worker's processes have all
  // exited and its claims (port, UID, …) are free again, with the exit code.
  // Not called when spawn() throws. Must not block, nor call stop() for this
  // worker synchronously (post it elsewhere).
  std::function<void(int exit_code)> on_exit;
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

// A worker's resource consumption at one moment (runtime stats, autoscaler).
struct ResourceUsage {
  // Memory in use now, the way `docker stats` counts it: the cgroup's usage
  // minus inactive page cache when the worker has a memory group, else the
  // sum of its processes' resident set sizes.
  std::uint64_t memory_bytes = 0;
  std::uint64_t memory_limit_bytes = 0;  // enforced memory limit; 0 = none
  // User + system CPU time consumed so far. From the cgroup (includes
  // processes that already exited) when one accounts CPU, else summed over
  // the live processes (with the time of the children they reaped).
  double cpu_seconds = 0;
  // CPU use since the previous resource_usage() call for this worker, in
  // percent of one core (200 = two cores busy); 0 on the first call.
  double cpu_percent = 0;
  int processes = 0;              // processes in the worker's sandbox (not threads)
  std::string source = "procfs";  // "cgroup" or "procfs": where the figures come from
};

// A run-to-completion job (dependency restore) in a worker-like sandbox:
// same namespaces, capability drop, seccomp filter, per-job UID, cgroup
// limits and rlimits as a worker, but with network access kept, no Shiny
// environment, and a writable output directory.
struct BuildSpec {
  std::string build_id;  // for logs and process names; 1-100 of [A-Za-z0-9._-]
  std::string app_id;
  // argv run inside the sandbox; "R" / "Rscript" as argv[0] mean the backend's R.
  std::vector<std::string> command;
  std::filesystem::path bundle_path;            // host directory, read-only at bundle_mount
  std::filesystem::path bundle_mount = "/app";  // also the working directory
  // Host directory, read-write at output_mount (e.g. the R library being
  // restored). Created if missing. Afterwards everything in it belongs to the
  // server's own UID/GID (never to the job's UID, which is reused later).
  std::filesystem::path output_path;
  std::filesystem::path output_mount = "/out";
  std::vector<BuildMount> mounts;          // more binds (caches), in order
  std::map<std::string, std::string> env;  // added to PATH, HOME, TMPDIR, LANG
  // The whole process tree is killed after this long; 0 = no limit.
  std::chrono::milliseconds timeout{std::chrono::minutes(30)};
  // When it becomes true the job is killed as on a timeout (server shutdown).
  std::shared_ptr<const std::atomic<bool>> cancel;
  // Receives every stdout/stderr line as it is written (the caller can follow
  // it live); not closed by the build. Null = lines are dropped.
  std::shared_ptr<LineLog> log;
  // Limits; empty / 0 = the backend's defaults for workers.
  std::string memory_limit;
  double cpu_limit = 0;
  int pids_limit = 0;
};

struct BuildResult {
  int exit_code = -1;  // the job's status; 128 + signal when killed; -1 if it never ran
  bool timed_out = false;
  bool cancelled = false;  // killed because BuildSpec::cancel became true
  std::string error;       // non-empty when the job could not be started (setup failure)
  std::chrono::milliseconds duration{0};
  bool success() const { return error.empty() && !timed_out && !cancelled && exit_code == 0; }
};

class Backend {
 public:
  virtual ~Backend() = default;

  // Starts the worker and returns its endpoint as soon as the process runs;
  // readiness is health_check()'s job. Throws std::runtime_error with the
  // reason when the worker cannot be started; nothing is leaked then.
  virtual Endpoint spawn(const WorkerSpec& spec) = 0;

  // SIGTERM to the sandbox, SIGKILL after `grace_ms`, the whole tree reaped,
  // then the worker leaves the table. Blocks until then. Idempotent; unknown
  // ids are ignored.
  virtual void stop(const std::string& worker_id, int grace_ms = 5000) = 0;

  // True when the worker answers HTTP on its endpoint (blocks up to the
  // backend's probe timeout).
  virtual bool health_check(const std::string& worker_id) = 0;

  // Workers in the table: running, or exited and not yet stopped.
  virtual std::optional<WorkerStatus> status(const std::string& worker_id) = 0;
  virtual std::vector<WorkerStatus> list_managed() = 0;

  // The worker's stdout/stderr lines while it is in the table; null otherwise.
  virtual std::shared_ptr<LineLog> logs(const std::string& worker_id) = 0;

  // Stops every worker (shutdown); the table is empty afterwards.
  virtual void stop_all(int grace_ms = 5000) = 0;

  // Start-up: kills what a crashed predecessor left running (workers and
  // their helpers), removes its per-worker state and releases its claims.
  // Call once, before the first spawn. Returns the processes killed.
  virtual std::size_t cleanup_orphans() { return 0; }

  // What this backend enforces on this host.
  virtual LimitsSupport limits_support() const { return {}; }

  // The worker's current resource use; nullopt for unknown or exited workers
  // (and from backends that cannot measure it).
  virtual std::optional<ResourceUsage> resource_usage(const std::string& /*worker_id*/) {
    return std::nullopt;
  }

  // Runs `spec` to completion and returns how it ended; blocks the calling
  // thread meanwhile. Never throws for a failing job: setup failures come
  // back in BuildResult::error (and as a last line of spec.log). Every claim
  // (UID, cgroup, scratch directory) is given back and no process of the job
  // is left when it returns. Backends without builds throw std::runtime_error.
  virtual BuildResult build(const BuildSpec& /*spec*/) {
    throw std::runtime_error("backend: builds are not supported by this backend");
  }
};

}  // namespace blockyard::backend
