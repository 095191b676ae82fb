// Running short helper commands for the checks: fork + exec with a deadline,
// stdout and stderr captured together, optionally as another host identity
// (root only) and with extra fds handed to the child.
//
// The child gets a parent-death SIGKILL and its own process group; on timeout
// or destruction the whole group is SIGKILLed and reaped, so a check can never
// leave a process behind. Safe to call from any thread (the child only makes
// async-signal-safe calls before exec).
#pragma once

#include <sys/types.h>

#include <chrono>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "core/unique_fd.h"

namespace blockyard::preflight {

struct Identity {
  uid_t uid = 0;
  gid_t gid = 0;
};

struct SpawnSpec {
  std::vector<std::string> argv{};         // argv[0] is the path exec'd (no PATH search)
  std::optional<Identity> identity{};      // setgroups({gid}), setgid, setuid before exec
  std::vector<std::pair<int, int>> fds{};  // (parent fd, fd number in the child)
  bool capture_output = true;              // else stdout/stderr go to /dev/null
};

// A running child. Move-only; the destructor kills the process group and
// reaps the child if it has not been waited for.
class ChildProcess {
 public:
  // Throws std::system_error when fork or exec fails (exec errors are passed
  // back from the child, so a missing binary is reported here).
  static ChildProcess spawn(const SpawnSpec& spec);

  ChildProcess(ChildProcess&& other) noexcept;
  ChildProcess& operator=(ChildProcess&&) = delete;
  ChildProcess(const ChildProcess&) = delete;
  ChildProcess& operator=(const ChildProcess&) = delete;
  ~ChildProcess();

  pid_t pid() const { return pid_; }
  // Reads output until EOF or the deadline, then waits for exit until the
  // deadline. Returns the wait status, or nullopt on timeout (child still
  // running). `output` receives what was captured (at most 64 KiB).
  std::optional<int> wait_until(std::chrono::steady_clock::time_point deadline,
                                std::string& output);
  // SIGKILLs the group and reaps. Idempotent.
  void kill_and_reap();

 private:
  ChildProcess(pid_t pid, UniqueFd output) : pid_(pid), output_(std::move(output)) {}
  pid_t pid_ = -1;
  UniqueFd output_;
};

struct CommandResult {
  bool started = false;    // false: spawn failed, see error
  bool timed_out = false;  // killed at the deadline
  int exit_code = -1;      // exit status, or 128 + signal
  std::string output;      // stdout + stderr, trimmed
  std::string error;       // spawn failure text
  bool succeeded() const { return started && !timed_out && exit_code == 0; }
};

// Runs `spec` to completion or until `timeout` passes. Never throws for
// failures of the command itself; they are described in the result.
CommandResult run_command(const SpawnSpec& spec, std::chrono::milliseconds timeout);

// Leading and trailing whitespace removed.
std::string trim(std::string text);

}  // namespace blockyard::preflight
