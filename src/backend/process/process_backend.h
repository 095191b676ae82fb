// The process backend: every worker is `Rscript -e shiny::runApp(...)` inside
// its own bubblewrap sandbox (user, pid, ipc, uts and — where possible —
// cgroup namespaces; read-only host root; private /proc, /dev and /tmp; the
// bundle read-only at bundle_worker_path; all capabilities dropped; an
// environment built from scratch; optionally an inner seccomp filter).
// Workers listen on 127.0.0.1:<port>, the port taken from
// [process] port_range_start..port_range_end.
//
// Identities: each worker gets a UID from worker_uid_range_start..end and
// runs as uid:worker_gid inside the sandbox. When runs_workers_as_own_uids()
// the forked child becomes that UID before it execs bwrap
// (ProcessOptions::run_as), so the worker's processes also have it on the host, and the bundle
// reaches the sandbox as bind_staging.h describes; otherwise the host UID is the server's own
// (limits_support().distinct_uids says which).
// Each worker has a directory <state_dir>/<worker id> owned by its UID,
// removed when it exits.
//
// Limits: per-worker cgroups (v2, else v1) with memory, CPU and pids limits
// where the host lets us create them; rlimits (core 0, nofile, nproc with
// distinct UIDs, optional address space) everywhere. limits_support() tells
// what is enforced. The cgroup also lists every process of a worker, so stop
// and exit kill the whole tree.
//
// resource_usage() reads the worker's cgroup (memory, and CPU time where a
// cpu/cpuacct group accounts it) and falls back to summing /proc over the
// worker's processes. build() runs a job in the same sandbox as a worker
// (see build_job.h); builds are not listed and have no status.
//
// Thread safety: every method may be called concurrently (see Backend); the
// backend must outlive every build() call still running.
// Workers stay in the table after they exit — status(), logs() and
// list_managed() keep reporting them (running = false) — until stop() (the
// owner calls it when WorkerSpec::on_exit tells it of the exit); a new spawn
// with the same id replaces them.
// A worker's port, UID, cgroup and directory are given back when it exits and
// on every spawn failure. Destroying the backend stops every worker.
#pragma once

#include <chrono>
#include <filesystem>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "backend/backend.h"
#include "backend/process/sandbox_mounts.h"
#include "backend/process/uid_allocator.h"

namespace blockyard::backend::process {

struct ProcessBackendOptions {
  std::filesystem::path bwrap_path = "/usr/bin/bwrap";  // [process] bwrap_path
  std::filesystem::path r_path = "/usr/bin/R";          // [process] r_path; Rscript beside it
  int port_range_start = 10000;                         // [process] port_range_start
  int port_range_end = 10999;                           // [process] port_range_end
  std::filesystem::path bundle_worker_path = "/app";    // [storage] bundle_worker_path
  // Per-worker directories; <bundle_server_path>/.workers. Also names this
  // backend instance (cgroup subtree, process marker) for orphan clean-up.
  std::filesystem::path state_dir;
  // Server data directories (bundles, database, tokens) that workers must not
  // see: each is covered by an empty read-only tmpfs inside the sandbox.
  std::vector<std::filesystem::path> hidden_paths;
  ProcMount worker_proc = ProcMount::kFresh;      // [process] worker_procfs
  std::map<std::string, std::string> worker_env;  // [server] worker_env
  std::size_t log_lines = 10000;                  // lines kept per worker
  std::chrono::milliseconds health_timeout{1000};

  // Identities ([process] worker_uid_range_start/end, worker_gid).
  int worker_uid_range_start = 60000;
  int worker_uid_range_end = 60999;
  int worker_gid = 65534;
  // The ranges ports and UIDs come from (state/open_state.h: shared with
  // other servers when the state is); null = a range of its own in memory
  // over port_range_start..end / worker_uid_range_start..end.
  std::shared_ptr<state::RangeAllocator> port_allocator;
  std::shared_ptr<state::RangeAllocator> uid_allocator;
  // As root, run each worker under its own host UID (ProcessOptions::run_as).
  bool worker_identities = true;

  // [process] seccomp_profile: a compiled BPF program bwrap loads for the
  // worker (--seccomp); empty = none.
  std::filesystem::path seccomp_profile;

  // Limits. A spec's own memory_limit / cpu_limit / pids_limit win.
  std::string default_memory_limit;  // [server] default_memory_limit; "" = none
  double default_cpu_limit = 0;      // [server] default_cpu_limit; 0 = none
  int default_pids_limit = 512;      // 0 = none
  bool use_cgroups = true;           // false: rlimits only
  unsigned long long rlimit_nofile = 4096;
  unsigned long long rlimit_as = 0;  // bytes; 0 = unlimited (R maps far more than it uses)
};

// True when workers run under their own host UIDs (worker_identities on and
// this process is root). The server opens its data directories to the worker
// GID (search only) exactly then: bwrap may have to bind a bundle by path.
bool runs_workers_as_own_uids(const ProcessBackendOptions& options);

// Throws std::invalid_argument when bwrap or Rscript is not an executable
// file, the port or UID range is empty (or includes 0), the seccomp profile
// is unreadable, a default limit does not parse, or bundle_worker_path is
// unusable.
std::unique_ptr<Backend> make_process_backend(const ProcessBackendOptions& options);

}  // namespace blockyard::backend::process
