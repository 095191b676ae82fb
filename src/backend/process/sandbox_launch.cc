#include "backend/process/sandbox_launch.h"

#include <fcntl.h>

#include <cerrno>
#include <cstring>
#include <stdexcept>

#include "backend/process/bind_staging.h"
#include "backend/process/bwrap_args.h"
#include "backend/process/process_tree.h"
#include "backend/process/sandbox_marker.h"
#include "core/unique_fd.h"

namespace blockyard::backend::process {

namespace {

constexpr std::chrono::milliseconds kInfoTimeout{2000};

}  // namespace

LaunchedSandbox launch_sandbox(const LaunchConfig& config, LaunchRequest request) {
  if (request.binds.empty()) throw std::invalid_argument("sandbox: no bundle to bind");
  UniqueFd seccomp;  // the parent's copy closes when this returns, on every path
  if (!config.seccomp_profile.empty()) {
    seccomp = UniqueFd(::open(config.seccomp_profile.c_str(), O_RDONLY | O_CLOEXEC));
    if (!seccomp.valid())
      throw std::runtime_error("sandbox: seccomp: open " + config.seccomp_profile.string() + ": " +
                               std::strerror(errno));
  }

  ProcessOptions run;
  // As a worker UID bwrap reaches the binds through private staging (bind_staging.h).
  run.private_binds = stage_binds(request.binds, config.own_uids);

  SandboxSpec sandbox;
  sandbox.bwrap_path = config.bwrap_path;
  sandbox.bundle_host_path = request.binds[0].source;
  sandbox.bundle_mount = request.binds[0].target;
  sandbox.extra_binds.assign(request.binds.begin() + 1, request.binds.end());
  sandbox.hidden_paths = config.hidden_paths;
  sandbox.proc = config.proc;
  sandbox.env = std::move(request.env);
  sandbox.command = std::move(request.command);
  sandbox.info_fd = 3;
  sandbox.uid = request.uid;
  sandbox.gid = config.gid;
  if (seccomp.valid()) sandbox.seccomp_fd = kFirstInheritFd;

  run.argv = build_bwrap_argv(sandbox);
  if (config.own_uids) run.run_as = ProcessOptions::Identity{request.uid, config.gid};
  // bwrap gets only the marker; --setenv gives the sandbox its own environment.
  run.env = {sandbox_marker(config.instance, request.name)};
  run.log = std::move(request.log);
  run.close_log_at_exit = request.close_log_at_exit;
  run.info_pipe = true;
  if (seccomp.valid()) run.inherit_fds = {seccomp.get()};
  run.cgroup_procs_fds = std::move(request.cgroup_procs_fds);
  run.rlimits = std::move(request.rlimits);
  run.before_fork = std::move(request.before_fork);
  run.on_exit = std::move(request.on_exit);

  LaunchedSandbox launched;
  launched.process = WorkerProcess::start(std::move(run));
  launched.sandbox_pid = parse_bwrap_child_pid(launched.process->read_info(kInfoTimeout));
  return launched;
}

}  // namespace blockyard::backend::process
