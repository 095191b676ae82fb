// Test support (header-only, used by *_test.cc only): run a syscall in a
// forked child under seccomp filters and bring back what it returned, and
// run a command with the blob on fd 3 the way the backend hands it to bwrap.
#pragma once

#include <fcntl.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <functional>
#include <string>
#include <vector>

#include "seccomp/bpf_program.h"
#include "core/unique_fd.h"

namespace blockyard::seccomp::testing {

// What a call returned inside the child: its return value and errno.
struct CallResult {
  long ret = 0;
  int err = 0;
};

struct ChildOutcome {
  bool completed = false;  // the child reported a result
  std::string failure;     // why not, when !completed
  CallResult result;
};

// Forks; the child installs `filters` in order (the last one installed is
// consulted first by the kernel), runs `call`, and reports its result through
// a pipe. Filters never touch the test process itself.
inline ChildOutcome run_filtered(const std::vector<const BpfProgram*>& filters,
                                 const std::function<CallResult()>& call) {
  int fds[2];
  if (pipe2(fds, O_CLOEXEC) != 0) return {false, "pipe failed", {}};
  UniqueFd read_end(fds[0]);
  UniqueFd write_end(fds[1]);
  const pid_t pid = fork();
  if (pid < 0) return {false, "fork failed", {}};
  if (pid == 0) {
    CallResult result{};
    try {
      for (const BpfProgram* filter : filters) filter->install_on_current_thread();
    } catch (...) {
      _exit(3);
    }
    result = call();
    if (write(write_end.get(), &result, sizeof result) != sizeof result) _exit(4);
    _exit(0);
  }
  write_end.reset();
  CallResult result{};
  ssize_t n;
  do {
    n = read(read_end.get(), &result, sizeof result);
  } while (n < 0 && errno == EINTR);
  int status = 0;
  waitpid(pid, &status, 0);
  if (n != static_cast<ssize_t>(sizeof result)) {
    std::string why = "child reported nothing; ";
    if (WIFSIGNALED(status)) {
      why += "killed by signal " + std::to_string(WTERMSIG(status));
    } else {
      why += "exit code " + std::to_string(WEXITSTATUS(status));
    }
    return {false, why, {}};
  }
  return {true, "", result};
}

// Wraps a raw syscall's outcome.
inline CallResult capture(long ret) {
  return {ret, ret < 0 ? errno : 0};
}

struct CommandOutcome {
  int exit_code = -1;  // -1 when killed by a signal or not started
  std::string output;  // stdout and stderr interleaved
};

// Runs argv with `fd3_path` opened read-only on fd 3 (empty: no fd 3), the
// way the process backend passes the seccomp blob to `bwrap --seccomp 3`.
inline CommandOutcome run_command(const std::vector<std::string>& argv,
                                  const std::string& fd3_path) {
  CommandOutcome outcome;
  int fds[2];
  if (pipe2(fds, O_CLOEXEC) != 0) return outcome;
  UniqueFd read_end(fds[0]);
  UniqueFd write_end(fds[1]);
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_adddup2(&actions, write_end.get(), 1);
  posix_spawn_file_actions_adddup2(&actions, write_end.get(), 2);
  if (!fd3_path.empty()) {
    posix_spawn_file_actions_addopen(&actions, 3, fd3_path.c_str(), O_RDONLY, 0);
  }
  std::vector<char*> args;
  for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  pid_t pid = 0;
  const int rc = posix_spawnp(&pid, args[0], &actions, nullptr, args.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  write_end.reset();
  if (rc != 0) {
    outcome.output = "spawn failed";
    return outcome;
  }
  char buffer[4096];
  while (true) {
    const ssize_t n = read(read_end.get(), buffer, sizeof buffer);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    outcome.output.append(buffer, static_cast<std::size_t>(n));
  }
  int status = 0;
  waitpid(pid, &status, 0);
  if (WIFEXITED(status)) outcome.exit_code = WEXITSTATUS(status);
  return outcome;
}

}  // namespace blockyard::seccomp::testing
