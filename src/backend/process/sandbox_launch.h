// The one sequence that starts a sandbox, for workers and build jobs alike:
// open the inner seccomp filter, stage the binds the sandbox's UID could not
// reach (bind_staging.h), build the bwrap argv (bwrap_args.h), fork with the
// identity, cgroups and rlimits (worker_process.h), exec bwrap, and learn the
// sandbox's host pid from bwrap's --info-fd. What differs between a worker
// and a build job — its binds, environment, command, claims and what happens
// at exit — is the request; what the backend lends every launch is the
// LaunchConfig. The caller holds the claims (UID, cgroup, port, directories)
// and releases them; a launch that throws leaves nothing running.
#pragma once

#include <filesystem>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "backend/process/sandbox_mounts.h"
#include "backend/process/worker_env.h"
#include "backend/process/worker_process.h"
#include "core/line_log.h"

namespace blockyard::backend::process {

// What the backend lends every launch.
struct LaunchConfig {
  std::filesystem::path bwrap_path = "/usr/bin/bwrap";
  std::vector<std::filesystem::path> hidden_paths;  // server data, covered inside
  std::filesystem::path seccomp_profile;            // compiled BPF; empty = none
  ProcMount proc = ProcMount::kFresh;               // [process] worker_procfs
  bool own_uids = false;  // as root: bwrap runs as the sandbox's UID (run_as)
  int gid = 65534;        // worker_gid
  std::string instance;   // sandbox marker instance (orphan clean-up)
};

struct LaunchRequest {
  std::string name;  // worker id or build job name: the process marker
  int uid = 0;       // the sandbox's UID (claimed by the caller)
  // binds[0] is the bundle: read-only, also the working directory. More
  // binds (build output, caches) follow in order. Sources are host paths.
  std::vector<SandboxBind> binds;
  EnvList env;                       // the sandbox's complete environment
  std::vector<std::string> command;  // runs inside, after "--"
  std::vector<int> cgroup_procs_fds;
  std::vector<ProcessOptions::Rlimit> rlimits;
  std::shared_ptr<LineLog> log;
  bool close_log_at_exit = true;
  std::function<void()> before_fork;
  std::function<void(int exit_code)> on_exit;
};

struct LaunchedSandbox {
  std::unique_ptr<WorkerProcess> process;
  int sandbox_pid = 0;  // host pid of the sandbox's pid 1; 0 = bwrap did not say
};

// Throws std::runtime_error naming what failed ("sandbox: seccomp: open …",
// or the child's failing step, see WorkerProcess::start).
LaunchedSandbox launch_sandbox(const LaunchConfig& config, LaunchRequest request);

}  // namespace blockyard::backend::process
