// The complete bwrap argument vector for one worker, built once and in order
// (nothing is spliced in afterwards): namespaces, session, capabilities, file
// system (sandbox_mounts.h), working directory, environment (worker_env.h),
// bookkeeping fds, then "--" and the command. Each concern is one function so
// later layers (uid/gid, seccomp fd, network namespace) slot in as one more.
#pragma once

#include <filesystem>
#include <string>
#include <vector>

#include "backend/process/sandbox_mounts.h"
#include "backend/process/worker_env.h"

namespace blockyard::backend::process {

struct SandboxSpec {
  std::filesystem::path bwrap_path = "/usr/bin/bwrap";
  std::filesystem::path bundle_host_path;
  std::filesystem::path bundle_mount = "/app";  // also the working directory
  EnvList env;                                  // the complete worker environment
  std::vector<std::string> command;             // runs after "--"
  int info_fd = -1;     // >= 0: bwrap reports the sandbox's host pid on this fd
  int seccomp_fd = -1;  // >= 0: bwrap loads this compiled BPF before the command
  int uid = -1;         // >= 0: the sandbox's uid (and, with run_as, the host uid)
  int gid = -1;         // >= 0: the sandbox's gid
  std::filesystem::path host_root = "/";            // tests point this at a fake root
  std::vector<std::filesystem::path> hidden_paths;  // server data, invisible inside
  std::vector<SandboxBind> extra_binds;             // after the bundle (build output, caches)
  ProcMount proc = ProcMount::kFresh;               // [process] worker_procfs
};

std::vector<std::string> namespace_args();
std::vector<std::string> session_args();
std::vector<std::string> identity_args(int uid, int gid);
std::vector<std::string> capability_args();
std::vector<std::string> seccomp_args(int fd);
std::vector<std::string> environment_args(const EnvList& env);

// argv[0] is spec.bwrap_path. Throws std::invalid_argument on an empty
// command or a bad mount point (see sandbox_mount_args).
std::vector<std::string> build_bwrap_argv(const SandboxSpec& spec);

}  // namespace blockyard::backend::process
