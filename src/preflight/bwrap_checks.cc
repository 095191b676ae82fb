// bwrap_available, user_namespaces, bwrap_host_uid_mapping.
#include <fcntl.h>
#include <poll.h>
#include <unistd.h>

#include <fstream>
#include <sstream>
#include <thread>

#include "backend/process/process_tree.h"
#include "preflight/checks.h"
#include "preflight/registry.h"
#include "preflight/sandbox_diagnosis.h"
#include "preflight/sandbox_probe.h"

namespace blockyard::preflight {

namespace {

using namespace std::chrono_literals;

std::string in_quotes(const std::string& text) {
  return "\"" + text + "\"";
}

}  // namespace

CheckResult check_bwrap_available(const CheckContext& context) {
  const std::string name = "bwrap_available";
  std::string configured = context.process().bwrap_path;
  auto bwrap = find_executable(configured);
  if (!bwrap) {
    return result(name, kError,
                  "bwrap not found at " + in_quotes(configured) +
                      ": install bubblewrap (Debian/Ubuntu: apt-get install bubblewrap) or set "
                      "[process] bwrap_path to its location");
  }
  auto run = run_command({.argv = {bwrap->string(), "--version"}}, 5s);
  if (!run.succeeded()) {
    std::string why = !run.error.empty() ? run.error
                      : run.timed_out    ? "timed out"
                                      : "exit " + std::to_string(run.exit_code) + ": " + run.output;
    return result(name, kError,
                  "bwrap --version failed for " + in_quotes(bwrap->string()) + " (" + why +
                      "); reinstall bubblewrap or point [process] bwrap_path at a working binary");
  }
  return result(name, kOk, "bwrap version: " + run.output + " (" + bwrap->string() + ")");
}

CheckResult check_user_namespaces(const CheckContext& context) {
  const std::string name = "user_namespaces";
  auto bwrap = find_executable(context.process().bwrap_path);
  if (!bwrap) return result(name, kInfo, "not checked: bwrap is missing (see bwrap_available)");
  auto identity = context.worker_identity();
  auto run = run_command(
      {.argv = probe_sandbox_argv(*bwrap, identity, context.worker_proc(), {}, {"/bin/true"}),
       .identity = identity},
      10s);
  std::string who = identity ? " as worker uid " + std::to_string(identity->uid) : "";
  if (run.succeeded()) {
    return result(name, kOk, "bwrap can create user namespaces" + who);
  }
  ProbeOutcome outcome{.spawn_error = run.error, .timed_out = run.timed_out, .output = run.output};
  Diagnosis diagnosis =
      diagnose_sandbox_failure(outcome, HostFacts::read_from_proc(), identity, who);
  return result(name, kError, diagnosis.message);
}

CheckResult check_bwrap_host_uid_mapping(const CheckContext& context) {
  const std::string name = "bwrap_host_uid_mapping";
  if (::geteuid() != 0) {
    return result(
        name, kInfo,
        "blockyard is not running as root, so workers cannot run under per-worker host UIDs: "
        "every worker shares blockyard's host UID and `iptables -m owner --uid-owner/--gid-owner` "
        "rules cannot single out worker traffic. The sandbox itself (namespaces, read-only root, "
        "no capabilities, seccomp) still holds; to firewall workers use cgroup rules (see "
        "cgroup_delegation) or run blockyard as root in its container image.");
  }
  auto identity = context.worker_identity();
  if (!identity) {
    return result(name, kInfo,
                  "blockyard runs as root but the process backend does not start workers under "
                  "per-worker host UIDs: workers appear on the host as "
                  "root's mapped identity, so `iptables -m owner` rules cannot single them out.");
  }
  auto bwrap = find_executable(context.process().bwrap_path);
  if (!bwrap) return result(name, kInfo, "not checked: bwrap is missing (see bwrap_available)");

  int fds[2];
  if (::pipe2(fds, O_CLOEXEC) != 0) return result(name, kError, "pipe failed");
  UniqueFd info_read(fds[0]), info_write(fds[1]);
  constexpr int kInfoFd = 3;
  SpawnSpec spec{
      .argv = probe_sandbox_argv(*bwrap, identity, context.worker_proc(),
                                 {"--info-fd", std::to_string(kInfoFd)}, {"/bin/sleep", "3"}),
      .identity = identity,
      .fds = {{info_write.get(), kInfoFd}},
      .capture_output = true};
  std::optional<ChildProcess> child;
  try {
    child.emplace(ChildProcess::spawn(spec));
  } catch (const std::exception& e) {
    return result(
        name, kError,
        std::string("failed to spawn bwrap probe: ") + e.what() + " (see user_namespaces)");
  }
  info_write.reset();
  // bwrap writes {"child-pid": N} once the sandbox exists; EOF without it
  // means it failed (poll bounds the wait).
  std::string info;
  auto deadline = std::chrono::steady_clock::now() + 2s;
  char buffer[256];
  while (std::chrono::steady_clock::now() < deadline &&
         backend::process::parse_bwrap_child_pid(info) == 0) {
    pollfd pfd{info_read.get(), POLLIN, 0};
    if (::poll(&pfd, 1, 100) <= 0) continue;
    ssize_t n = ::read(info_read.get(), buffer, sizeof buffer);
    if (n <= 0) break;
    info.append(buffer, n);
  }
  int inner = backend::process::parse_bwrap_child_pid(info);
  if (inner == 0) {
    std::string output;
    child->wait_until(std::chrono::steady_clock::now() + 500ms, output);
    child->kill_and_reap();
    return result(name, kError,
                  "bwrap probe exited before reporting its sandbox: " + trim(output) +
                      " (see user_namespaces)");
  }
  uid_t seen_uid = static_cast<uid_t>(-1);
  gid_t seen_gid = static_cast<gid_t>(-1);
  while (std::chrono::steady_clock::now() < deadline) {
    std::ifstream status("/proc/" + std::to_string(inner) + "/status");
    std::string line;
    while (std::getline(status, line)) {
      std::istringstream fields(line);
      std::string key;
      fields >> key;
      if (key == "Uid:") fields >> seen_uid;
      if (key == "Gid:") fields >> seen_gid;
    }
    if (seen_uid == identity->uid && seen_gid == identity->gid) break;
    std::this_thread::sleep_for(50ms);
  }
  child->kill_and_reap();
  if (seen_uid == identity->uid && seen_gid == identity->gid) {
    return result(name, kOk,
                  "bwrap --uid/--gid are host-effective (child host uid=" +
                      std::to_string(seen_uid) + " gid=" + std::to_string(seen_gid) + ")");
  }
  return result(name, kError,
                "bwrap host-side identity mismatch: requested uid=" +
                    std::to_string(identity->uid) + " gid=" + std::to_string(identity->gid) +
                    ", host /proc sees uid=" + std::to_string(static_cast<int>(seen_uid)) +
                    " gid=" + std::to_string(static_cast<int>(seen_gid)) +
                    "; iptables owner rules would not match workers");
}

}  // namespace blockyard::preflight
