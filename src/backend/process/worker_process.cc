#include "backend/process/worker_process.h"

#include <fcntl.h>
#include <linux/close_range.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <stdexcept>

#include "backend/process/log_pump.h"

namespace blockyard::backend::process {

namespace {

// Lowest fd the parent keeps for the child's side of the pipes, so that the
// child's dup2() onto 0..3 can never overwrite a source fd.
constexpr int kFirstHighFd = 10;

std::string errno_text(const std::string& what) {
  return what + ": " + std::strerror(errno);
}

UniqueFd moved_high(UniqueFd fd) {
  if (!fd.valid() || fd.get() >= kFirstHighFd) return fd;
  UniqueFd high(::fcntl(fd.get(), F_DUPFD_CLOEXEC, kFirstHighFd));
  if (!high.valid()) throw std::runtime_error(errno_text("process backend: fcntl"));
  return high;
}

std::pair<UniqueFd, UniqueFd> make_pipe() {
  int fds[2];
  if (::pipe2(fds, O_CLOEXEC) != 0) throw std::runtime_error(errno_text("process backend: pipe"));
  UniqueFd read_end(fds[0]), write_end(fds[1]);
  return {moved_high(std::move(read_end)), moved_high(std::move(write_end))};
}

int exit_code_from_status(int status) {
  if (WIFEXITED(status)) return WEXITSTATUS(status);
  if (WIFSIGNALED(status)) return 128 + WTERMSIG(status);
  return -1;
}

struct ChildFds {
  int stdin_fd, stdout_fd, stderr_fd, info_fd, exec_status_fd;
  const int* inherit;  // become kFirstInheritFd, kFirstInheritFd + 1, …
  std::size_t inherit_count;
  const int* cgroup_procs;
  std::size_t cgroup_procs_count;
  const ProcessOptions::Rlimit* rlimits;
  std::size_t rlimit_count;
  const char* const* bind_sources;  // private_binds, split into plain arrays
  const char* const* bind_targets;
  const unsigned char* bind_read_only;
  std::size_t bind_count;
  int run_as_uid, run_as_gid;  // -1: keep the server's identity
};

// The step of the child's set-up that failed, reported with errno through
// the exec-status pipe (which closes on a successful exec).
enum class ChildStep : int {
  parent_death_signal,
  join_cgroups,
  set_rlimits,
  stage_binds,
  drop_privileges,
  set_up_fds,
  exec,
};

struct ChildFailure {
  ChildStep step;
  int error;
};

const char* describe(ChildStep step) {
  switch (step) {
    case ChildStep::parent_death_signal:
      return "arm the parent-death signal";
    case ChildStep::join_cgroups:
      return "join the cgroups";
    case ChildStep::set_rlimits:
      return "set the rlimits";
    case ChildStep::stage_binds:
      return "stage the private binds";
    case ChildStep::drop_privileges:
      return "drop to the sandbox's UID/GID";
    case ChildStep::set_up_fds:
      return "set up the child's fds";
    case ChildStep::exec:
      return "exec";
  }
  return "set up";
}

[[noreturn]] void child_fail(int status_fd, ChildStep step) {
  const ChildFailure failure{step, errno};
  [[maybe_unused]] auto n = ::write(status_fd, &failure, sizeof failure);
  ::_exit(127);
}

// Writes our pid in decimal to each cgroup.procs (no allocation: we are a
// forked child of a threaded parent).
bool join_cgroups(const int* fds, std::size_t count) {
  char digits[24];
  std::size_t len = 0;
  for (unsigned long pid = static_cast<unsigned long>(::getpid()); pid != 0 || len == 0; pid /= 10)
    digits[len++] = static_cast<char>('0' + pid % 10);
  char text[24];
  for (std::size_t i = 0; i < len; ++i) text[i] = digits[len - 1 - i];
  for (std::size_t i = 0; i < count; ++i)
    if (::write(fds[i], text, len) != static_cast<ssize_t>(len)) return false;
  return true;
}

// Lowers each limit (never raises: without CAP_SYS_RESOURCE we could not).
bool apply_rlimits(const ProcessOptions::Rlimit* limits, std::size_t count) {
  for (std::size_t i = 0; i < count; ++i) {
    const auto resource = static_cast<__rlimit_resource_t>(limits[i].resource);
    rlimit current{};
    if (::getrlimit(resource, &current) != 0) return false;
    rlim_t value = static_cast<rlim_t>(limits[i].value);
    if (current.rlim_max != RLIM_INFINITY && value > current.rlim_max) value = current.rlim_max;
    const rlimit wanted{value, value};
    if (::setrlimit(resource, &wanted) != 0) return false;
  }
  return true;
}

// A private mount namespace with a tmpfs on /tmp holding the binds; nothing
// propagates to the host.
bool stage_private_binds(const ChildFds& fds) {
  if (fds.bind_count == 0) return true;
  if (::unshare(CLONE_NEWNS) != 0) return false;
  if (::mount(nullptr, "/", nullptr, MS_REC | MS_SLAVE, nullptr) != 0) return false;
  // Opened in the new namespace (a bind source must belong to it) and
  // before the tmpfs hides whatever lives under /tmp.
  int opened[kMaxPrivateBinds];
  for (std::size_t i = 0; i < fds.bind_count; ++i) {
    opened[i] = ::open(fds.bind_sources[i], O_PATH | O_DIRECTORY | O_CLOEXEC);
    if (opened[i] < 0) return false;
  }
  if (::mount("tmpfs", "/tmp", "tmpfs", MS_NOSUID | MS_NODEV | MS_NOEXEC, "mode=0755,size=64k") !=
      0)
    return false;
  if (::mkdir(kPrivateStagingDir, 0755) != 0) return false;
  for (std::size_t i = 0; i < fds.bind_count; ++i) {
    char source[32] = "/proc/self/fd/";
    std::size_t len = std::strlen(source);
    char digits[12];
    std::size_t n = 0;
    for (int fd = opened[i]; fd != 0 || n == 0; fd /= 10)
      digits[n++] = static_cast<char>('0' + fd % 10);
    while (n > 0) source[len++] = digits[--n];
    source[len] = '\0';
    if (::mkdir(fds.bind_targets[i], 0755) != 0) return false;
    if (::mount(source, fds.bind_targets[i], nullptr, MS_BIND | MS_REC, nullptr) != 0) return false;
    if (fds.bind_read_only[i] &&
        ::mount(nullptr, fds.bind_targets[i], nullptr,
                MS_REMOUNT | MS_BIND | MS_RDONLY | MS_NOSUID | MS_NODEV, nullptr) != 0)
      return false;
    ::close(opened[i]);
  }
  return true;
}

// Becomes uid:gid for good. Raw system calls: glibc's set*id() coordinate
// every thread of a process, which a forked child must not rely on (here the
// calling thread is the whole process, so the raw call is the whole change).
bool drop_to(int uid, int gid, pid_t parent) {
  if (::syscall(SYS_setgroups, 0, nullptr) != 0) return false;
  if (::syscall(SYS_setresgid, gid, gid, gid) != 0) return false;
  if (::syscall(SYS_setresuid, uid, uid, uid) != 0) return false;
  uid_t r = 0, e = 0, s = 0;
  if (::syscall(SYS_getresuid, &r, &e, &s) != 0 || r != static_cast<uid_t>(uid) || e != r || s != r)
    return false;
  if (::prctl(PR_SET_DUMPABLE, 1, 0, 0, 0) != 0) return false;
  return ::prctl(PR_SET_PDEATHSIG, SIGKILL) == 0 && ::getppid() == parent;
}

// Runs in the forked child of a multi-threaded parent: async-signal-safe
// calls only, no allocation.
[[noreturn]] void exec_child(const ChildFds& fds, char* const argv[], char* const envp[],
                             pid_t parent) {
  if (::prctl(PR_SET_PDEATHSIG, SIGKILL) != 0)
    child_fail(fds.exec_status_fd, ChildStep::parent_death_signal);
  if (::getppid() != parent) ::_exit(127);  // the parent is gone: nobody to tell
  ::setpgid(0, 0);
  struct sigaction dfl {};
  dfl.sa_handler = SIG_DFL;
  for (int sig = 1; sig < NSIG; ++sig) ::sigaction(sig, &dfl, nullptr);  // SIG_IGN survives exec
  sigset_t none;
  ::sigemptyset(&none);
  ::sigprocmask(SIG_SETMASK, &none, nullptr);

  // Join the worker's cgroups before anything else can fork.
  const int status = fds.exec_status_fd;
  if (!join_cgroups(fds.cgroup_procs, fds.cgroup_procs_count))
    child_fail(status, ChildStep::join_cgroups);
  if (!apply_rlimits(fds.rlimits, fds.rlimit_count)) child_fail(status, ChildStep::set_rlimits);
  if (!stage_private_binds(fds)) child_fail(status, ChildStep::stage_binds);
  if (fds.run_as_uid >= 0 && !drop_to(fds.run_as_uid, fds.run_as_gid, parent))
    child_fail(status, ChildStep::drop_privileges);

  if (::dup2(fds.stdin_fd, 0) < 0 || ::dup2(fds.stdout_fd, 1) < 0 || ::dup2(fds.stderr_fd, 2) < 0 ||
      (fds.info_fd >= 0 && ::dup2(fds.info_fd, 3) < 0))
    child_fail(status, ChildStep::set_up_fds);
  for (std::size_t i = 0; i < fds.inherit_count; ++i)
    if (::dup2(fds.inherit[i], kFirstInheritFd + static_cast<int>(i)) < 0)
      child_fail(status, ChildStep::set_up_fds);
  // Everything else closes on exec (the exec-status pipe must stay open until then).
  const unsigned first_other = fds.inherit_count > 0
                                   ? static_cast<unsigned>(kFirstInheritFd + fds.inherit_count)
                                   : (fds.info_fd >= 0 ? 4u : 3u);
  if (::syscall(SYS_close_range, first_other, ~0U, CLOSE_RANGE_CLOEXEC) != 0) {
    for (int fd = static_cast<int>(first_other); fd < 65536; ++fd) ::fcntl(fd, F_SETFD, FD_CLOEXEC);
  }
  ::execve(argv[0], argv, envp);
  child_fail(status, ChildStep::exec);
}

std::vector<char*> c_strings(std::vector<std::string>& strings) {
  std::vector<char*> out;
  for (auto& s : strings) out.push_back(s.data());
  out.push_back(nullptr);
  return out;
}

}  // namespace

bool can_stage_private_mounts() {
  static const bool can = [] {
    const pid_t pid = ::fork();
    if (pid < 0) return false;
    if (pid == 0) ::_exit(::unshare(CLONE_NEWNS) == 0 ? 0 : 1);
    int status = 0;
    while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
    }
    return WIFEXITED(status) && WEXITSTATUS(status) == 0;
  }();
  return can;
}

WorkerProcess::WorkerProcess(PrivateTag, ProcessOptions options) : options_(std::move(options)) {}

std::unique_ptr<WorkerProcess> WorkerProcess::start(ProcessOptions options) {
  if (options.argv.empty()) throw std::invalid_argument("process backend: empty argv");
  if (!options.log) options.log = std::make_shared<LineLog>();
  if (options.private_binds.size() > kMaxPrivateBinds)
    throw std::invalid_argument("process backend: too many private binds");
  if (options.run_as && (options.run_as->uid <= 0 || options.run_as->gid <= 0))
    throw std::invalid_argument("process backend: refusing to run a sandbox as root");
  auto p = std::make_unique<WorkerProcess>(PrivateTag{}, std::move(options));
  std::tie(p->out_read_, p->out_write_) = make_pipe();
  std::tie(p->err_read_, p->err_write_) = make_pipe();
  std::tie(p->exec_status_read_, p->exec_status_write_) = make_pipe();
  if (p->options_.info_pipe) std::tie(p->info_read_, p->info_write_) = make_pipe();
  p->dev_null_ = moved_high(UniqueFd(::open("/dev/null", O_RDONLY | O_CLOEXEC)));
  if (!p->dev_null_.valid()) throw std::runtime_error(errno_text("process backend: /dev/null"));
  for (int fd : p->options_.inherit_fds) {
    UniqueFd high(::fcntl(fd, F_DUPFD_CLOEXEC, kFirstHighFd));
    if (!high.valid()) throw std::runtime_error(errno_text("process backend: dup inherited fd"));
    p->inherit_.push_back(std::move(high));
  }

  p->owner_ = std::thread(&WorkerProcess::run, p.get(), static_cast<int>(::getpid()));
  std::unique_lock lock(p->mu_);
  p->cv_.wait(lock, [&] { return p->started_; });
  if (!p->start_error_.empty()) {
    const std::string error = p->start_error_;
    lock.unlock();
    p->owner_.join();
    throw std::runtime_error(error);
  }
  return p;
}

void WorkerProcess::launch_child(int parent_pid) {
  auto argv = c_strings(options_.argv);
  auto envp = c_strings(options_.env);
  std::vector<int> inherit;
  for (const auto& fd : inherit_) inherit.push_back(fd.get());
  // Prepared here: the child may not allocate.
  std::vector<std::string> source_paths, target_paths;
  std::vector<unsigned char> bind_read_only;  // not vector<bool>: needs data()
  for (const auto& b : options_.private_binds) {
    source_paths.push_back(b.source);
    target_paths.push_back(std::string(kPrivateStagingDir) + "/" + b.name);
    bind_read_only.push_back(b.read_only ? 1 : 0);
  }
  std::vector<const char*> bind_sources, bind_targets;
  for (std::size_t i = 0; i < source_paths.size(); ++i) {
    bind_sources.push_back(source_paths[i].c_str());
    bind_targets.push_back(target_paths[i].c_str());
  }
  const ChildFds fds{dev_null_.get(),
                     out_write_.get(),
                     err_write_.get(),
                     info_write_.valid() ? info_write_.get() : -1,
                     exec_status_write_.get(),
                     inherit.data(),
                     inherit.size(),
                     options_.cgroup_procs_fds.data(),
                     options_.cgroup_procs_fds.size(),
                     options_.rlimits.data(),
                     options_.rlimits.size(),
                     bind_sources.data(),
                     bind_targets.data(),
                     bind_read_only.data(),
                     bind_sources.size(),
                     options_.run_as ? options_.run_as->uid : -1,
                     options_.run_as ? options_.run_as->gid : -1};
  if (options_.before_fork) options_.before_fork();
  const pid_t pid = ::fork();
  if (pid < 0) throw std::runtime_error(errno_text("process backend: fork"));
  if (pid == 0) exec_child(fds, argv.data(), envp.data(), parent_pid);

  for (auto* fd : {&out_write_, &err_write_, &info_write_, &exec_status_write_, &dev_null_})
    fd->reset();
  inherit_.clear();
  ::setpgid(pid, pid);  // also done by the child; whichever runs first wins the race
  ChildFailure failure{};
  ssize_t n;
  do {
    n = ::read(exec_status_read_.get(), &failure, sizeof failure);
  } while (n < 0 && errno == EINTR);
  exec_status_read_.reset();
  int status = 0;
  if (n > 0) {
    ::waitpid(pid, &status, 0);
    const std::string what =
        failure.step == ChildStep::exec
            ? "exec " + options_.argv[0]
            : std::string(describe(failure.step)) + " (before exec of " + options_.argv[0] + ")";
    throw std::runtime_error("process backend: " + what + ": " + std::strerror(failure.error));
  }
  UniqueFd pidfd(static_cast<int>(::syscall(SYS_pidfd_open, pid, 0)));
  if (!pidfd.valid()) {
    const std::string error = errno_text("process backend: pidfd_open");
    ::kill(pid, SIGKILL);
    ::waitpid(pid, &status, 0);
    throw std::runtime_error(error);
  }
  std::lock_guard lock(mu_);
  pid_ = pid;
  pidfd_ = std::move(pidfd);
}

void WorkerProcess::run(int parent_pid) {
  try {
    launch_child(parent_pid);
  } catch (const std::exception& e) {
    std::lock_guard lock(mu_);
    started_ = true;
    start_error_ = e.what();
    cv_.notify_all();
    return;
  }
  {
    std::lock_guard lock(mu_);
    started_ = true;
  }
  cv_.notify_all();

  pump_until_exit(
      out_read_.get(), err_read_.get(), pidfd_.get(), *options_.log, [this] { reap(); },
      options_.drain_after_exit);
  if (options_.close_log_at_exit) options_.log->close();
  if (options_.on_exit) options_.on_exit(exit_code().value_or(-1));
  {
    std::lock_guard lock(mu_);
    finished_ = true;
  }
  cv_.notify_all();
}

void WorkerProcess::reap() {
  int status = 0;
  pid_t got;
  do {
    got = ::waitpid(pid_, &status, 0);
  } while (got < 0 && errno == EINTR);
  {
    std::lock_guard lock(mu_);
    reaped_ = true;
    exit_code_ = got == pid_ ? exit_code_from_status(status) : -1;
  }
  cv_.notify_all();
}

WorkerProcess::~WorkerProcess() {
  if (owner_.joinable()) {
    signal_group(SIGKILL);
    signal(SIGKILL);
    owner_.join();
  }
}

bool WorkerProcess::running() const {
  std::lock_guard lock(mu_);
  return !reaped_;
}

std::optional<int> WorkerProcess::exit_code() const {
  std::lock_guard lock(mu_);
  if (!reaped_) return std::nullopt;
  return exit_code_;
}

bool WorkerProcess::wait_finished(std::chrono::milliseconds timeout) const {
  std::unique_lock lock(mu_);
  return cv_.wait_for(lock, timeout, [&] { return finished_; });
}

bool WorkerProcess::signal(int sig) {
  // Under mu_ the child is not reaped yet, so the pidfd (and pid) are its own.
  std::lock_guard lock(mu_);
  if (reaped_ || !pidfd_.valid()) return false;
  return ::syscall(SYS_pidfd_send_signal, pidfd_.get(), sig, nullptr, 0) == 0;
}

bool WorkerProcess::signal_group(int sig) {
  std::lock_guard lock(mu_);
  if (reaped_ || pid_ <= 0) return false;
  return ::kill(-pid_, sig) == 0;
}

std::string WorkerProcess::read_info(std::chrono::milliseconds timeout) {
  std::string text;
  if (!info_read_.valid()) return text;
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (text.find('}') == std::string::npos) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) break;
    pollfd p{info_read_.get(), POLLIN, 0};
    const int ready = ::poll(&p, 1, static_cast<int>(left.count()));
    if (ready < 0 && errno == EINTR) continue;
    if (ready <= 0) break;
    char buf[512];
    const ssize_t n = ::read(info_read_.get(), buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    text.append(buf, static_cast<std::size_t>(n));
  }
  info_read_.reset();
  return text;
}

}  // namespace blockyard::backend::process
