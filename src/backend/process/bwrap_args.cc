#include "backend/process/bwrap_args.h"

#include <stdexcept>

#include "backend/process/sandbox_mounts.h"

namespace blockyard::backend::process {

namespace {
void append(std::vector<std::string>& to, const std::vector<std::string>& more) {
  to.insert(to.end(), more.begin(), more.end());
}
}  // namespace

std::vector<std::string> namespace_args() {
  // No --unshare-net yet: workers serve on host loopback (a later layer adds
  // a private network namespace with a Unix socket endpoint). Build jobs use
  // these too and need the network (package downloads): keep that in mind.
  return {"--unshare-user", "--unshare-pid", "--unshare-ipc", "--unshare-uts",
          "--unshare-cgroup-try"};
}

std::vector<std::string> session_args() {
  // --new-session: the worker cannot push input into a controlling terminal.
  return {"--die-with-parent", "--new-session"};
}

std::vector<std::string> identity_args(int uid, int gid) {
  std::vector<std::string> args;
  if (uid >= 0) append(args, {"--uid", std::to_string(uid)});
  if (gid >= 0) append(args, {"--gid", std::to_string(gid)});
  return args;
}

std::vector<std::string> seccomp_args(int fd) {
  if (fd < 0) return {};
  return {"--seccomp", std::to_string(fd)};
}

std::vector<std::string> capability_args() {
  return {"--cap-drop", "ALL"};
}

std::vector<std::string> environment_args(const EnvList& env) {
  std::vector<std::string> args{"--clearenv"};
  for (const auto& [name, value] : env) append(args, {"--setenv", name, value});
  return args;
}

std::vector<std::string> build_bwrap_argv(const SandboxSpec& spec) {
  if (spec.command.empty()) throw std::invalid_argument("bwrap: empty worker command");
  std::vector<std::string> argv{spec.bwrap_path.string()};
  append(argv, namespace_args());
  append(argv, identity_args(spec.uid, spec.gid));
  append(argv, session_args());
  append(argv, capability_args());
  std::vector<SandboxBind> binds{{spec.bundle_host_path, spec.bundle_mount, true}};
  binds.insert(binds.end(), spec.extra_binds.begin(), spec.extra_binds.end());
  append(argv, sandbox_mount_args(binds, spec.host_root, spec.hidden_paths, spec.proc));
  append(argv, {"--chdir", spec.bundle_mount.string()});
  append(argv, environment_args(spec.env));
  if (spec.info_fd >= 0) append(argv, {"--info-fd", std::to_string(spec.info_fd)});
  append(argv, seccomp_args(spec.seccomp_fd));
  argv.push_back("--");
  append(argv, spec.command);
  return argv;
}

}  // namespace blockyard::backend::process
