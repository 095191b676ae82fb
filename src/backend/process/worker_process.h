// WorkerProcess: one child process (bwrap, for a worker) and the thread that
// owns it for its whole life. That thread forks the child — PR_SET_PDEATHSIG
// follows the *thread* that forked, so it must live as long as the child —
// pumps the child's stdout and stderr into a LineLog, reaps the child
// (waitpid on its own pid only; no SIGCHLD handler), records the exit status,
// closes the log, then runs the on_exit callback.
//
// The child gets: stdin /dev/null; stdout/stderr pipes; optionally an info
// pipe as fd 3; the inherit_fds as fds 4, 5, …; no other fds (everything
// else is closed on exec); default signal dispositions and an empty signal
// mask; its own process group; PR_SET_PDEATHSIG SIGKILL; the given rlimits
// (lowered only, never raised); exactly the environment given. Before it
// execs, the child writes its pid into every cgroup_procs_fds, so it and all
// it starts are in the worker's cgroups from the first instruction on.
//
// Thread safety: all const methods and signal() may be called from any
// thread. Destruction kills a still-running child and waits for the thread.
#pragma once

#include <chrono>
#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "core/line_log.h"
#include "core/unique_fd.h"

namespace blockyard::backend::process {

// Where ProcessOptions::private_binds appear in the child's mount namespace.
inline constexpr const char* kPrivateStagingDir = "/tmp/.blockyard-staged";
inline constexpr std::size_t kMaxPrivateBinds = 16;

// The fd number the first of ProcessOptions::inherit_fds gets in the child.
inline constexpr int kFirstInheritFd = 4;

struct ProcessOptions {
  std::vector<std::string> argv;  // argv[0] is the executable's absolute path
  std::vector<std::string> env;   // "NAME=value", the child's complete environment
  std::shared_ptr<LineLog> log;   // receives stdout and stderr lines; closed at exit
  bool info_pipe = false;         // give the child a pipe as fd 3 (bwrap --info-fd 3)
  // Parent fds the child gets as fds 4, 5, … (e.g. bwrap --seccomp 4). The
  // parent keeps ownership; they need not be inheritable.
  std::vector<int> inherit_fds;
  // Open cgroup.procs files; a failed write aborts the start.
  std::vector<int> cgroup_procs_fds;
  struct Rlimit {
    int resource;              // RLIMIT_*
    unsigned long long value;  // soft and hard limit (capped at the current hard limit)
  };
  std::vector<Rlimit> rlimits;
  // Needs CAP_SYS_ADMIN (see can_stage_private_mounts()): before it execs,
  // the child enters a private mount namespace (nothing propagates back to
  // the host), opens each source, mounts a small tmpfs on /tmp and binds the
  // sources at kPrivateStagingDir/<name>, so a child that then drops
  // privileges (run_as) reaches directories it could not traverse to itself. Sources under /tmp
  // work too (opened before the tmpfs covers them). At most kMaxPrivateBinds; a failure aborts the
  // start.
  struct PrivateBind {
    std::string source;  // host directory
    std::string name;    // a single path component
    bool read_only = true;
  };
  std::vector<PrivateBind> private_binds;
  // Needs root. After staging, the child becomes this identity before it
  // execs: no supplementary groups, then the GID, then the UID (real,
  // effective and saved), dumpable again (a credential change clears it, and
  // bwrap must write its own /proc/self/uid_map) and PR_SET_PDEATHSIG
  // re-armed (a credential change clears that too). start() refuses 0.
  struct Identity {
    int uid;
    int gid;
  };
  std::optional<Identity> run_as;
  // On the owner thread just before fork (e.g. free the port the child binds).
  std::function<void()> before_fork;
  // On the owner thread after the child was reaped and the log closed.
  std::function<void(int exit_code)> on_exit;
  std::chrono::milliseconds drain_after_exit{1000};
  // false: the log stays open after the exit (the caller appends to it later).
  bool close_log_at_exit = true;
};

// True when this process may create a private mount namespace (as
// ProcessOptions::private_binds needs); probed once in a short-lived child.
bool can_stage_private_mounts();

class WorkerProcess {
  struct PrivateTag {};

 public:
  // Returns once the child has exec'd. Throws std::runtime_error with the
  // reason (fork, exec, pidfd failure); nothing is left running then, and
  // on_exit is not called.
  static std::unique_ptr<WorkerProcess> start(ProcessOptions options);

  WorkerProcess(const WorkerProcess&) = delete;
  WorkerProcess& operator=(const WorkerProcess&) = delete;
  ~WorkerProcess();

  int pid() const { return pid_; }
  bool running() const;
  // Exit code once reaped: the status, or 128 + signal number.
  std::optional<int> exit_code() const;
  // True when the owner thread finished (child reaped, on_exit done) in time.
  bool wait_finished(std::chrono::milliseconds timeout) const;

  // Signals the child; false once it has been reaped (never a stale pid).
  bool signal(int sig);
  // Signals the child's process group (the child and what it forked before
  // starting its own session); false once reaped.
  bool signal_group(int sig);

  // Reads what the child wrote to fd 3 until EOF or a '}' arrives or the
  // timeout passes (for bwrap: the --info-fd JSON). Empty without info_pipe.
  std::string read_info(std::chrono::milliseconds timeout);

  // Use start(); public only so std::make_unique can reach it.
  WorkerProcess(PrivateTag, ProcessOptions options);

 private:
  void run(int parent_pid);
  void launch_child(int parent_pid);
  void reap();

  ProcessOptions options_;
  UniqueFd out_read_, out_write_, err_read_, err_write_;
  UniqueFd info_read_, info_write_, exec_status_read_, exec_status_write_, dev_null_;
  std::vector<UniqueFd> inherit_;  // high duplicates of options_.inherit_fds
  UniqueFd pidfd_;
  int pid_ = 0;

  mutable std::mutex mu_;
  mutable std::condition_variable cv_;
  bool started_ = false;     // launch outcome known
  std::string start_error_;  // non-empty when the launch failed
  bool reaped_ = false;
  int exit_code_ = -1;
  bool finished_ = false;

  std::thread owner_;  // last member: starts after everything above exists
};

}  // namespace blockyard::backend::process
