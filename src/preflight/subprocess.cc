#include "preflight/subprocess.h"

#include <fcntl.h>
#include <grp.h>
#include <linux/close_range.h>
#include <poll.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <system_error>
#include <thread>

namespace blockyard::preflight {

namespace {

constexpr std::size_t kMaxOutput = 64 * 1024;
// Parent-side fds are moved at or above this number so that the child's
// dup2() onto small target numbers never overwrites a source.
constexpr int kHighFd = 100;

std::system_error errno_error(const std::string& what) {
  return std::system_error(errno, std::generic_category(), what);
}

UniqueFd high_dup(int fd) {
  UniqueFd high(::fcntl(fd, F_DUPFD_CLOEXEC, kHighFd));
  if (!high.valid()) throw errno_error("fcntl");
  return high;
}

struct ChildPlan {
  std::vector<std::pair<int, int>> dups;  // (source, target), sources >= kHighFd
  int status_fd;
  const Identity* identity;
  char* const* argv;
  pid_t parent;
};

[[noreturn]] void fail_child(int status_fd) {
  int err = errno;
  [[maybe_unused]] auto n = ::write(status_fd, &err, sizeof err);
  ::_exit(127);
}

// Runs in the forked child of a possibly multi-threaded parent:
// async-signal-safe calls only, no allocation.
[[noreturn]] void exec_child(const ChildPlan& plan) {
  if (::prctl(PR_SET_PDEATHSIG, SIGKILL) != 0) fail_child(plan.status_fd);
  if (::getppid() != plan.parent) ::_exit(127);  // the parent died before prctl
  ::setpgid(0, 0);
  sigset_t none;
  sigemptyset(&none);
  ::sigprocmask(SIG_SETMASK, &none, nullptr);
  for (const auto& [source, target] : plan.dups) {
    if (::dup2(source, target) < 0) fail_child(plan.status_fd);
  }
  // Everything else the server holds open stays out of the child.
  ::syscall(SYS_close_range, 3u, ~0u, CLOSE_RANGE_CLOEXEC);
  for (const auto& dup : plan.dups) ::fcntl(dup.second, F_SETFD, 0);
  if (plan.identity) {
    gid_t gid = plan.identity->gid;
    if (::setgroups(1, &gid) != 0 || ::setgid(gid) != 0 || ::setuid(plan.identity->uid) != 0) {
      fail_child(plan.status_fd);
    }
  }
  ::execv(plan.argv[0], plan.argv);
  fail_child(plan.status_fd);
}

}  // namespace

ChildProcess ChildProcess::spawn(const SpawnSpec& spec) {
  if (spec.argv.empty()) throw std::invalid_argument("spawn: empty argv");
  std::vector<char*> argv;
  for (const auto& arg : spec.argv) argv.push_back(const_cast<char*>(arg.c_str()));
  argv.push_back(nullptr);

  UniqueFd dev_null(::open("/dev/null", O_RDWR | O_CLOEXEC));
  if (!dev_null.valid()) throw errno_error("open /dev/null");
  dev_null = high_dup(dev_null.get());
  int pipe_fds[2];
  if (::pipe2(pipe_fds, O_CLOEXEC) != 0) throw errno_error("pipe");
  UniqueFd output_read(pipe_fds[0]);
  UniqueFd output_write = high_dup(pipe_fds[1]);
  ::close(pipe_fds[1]);
  if (::pipe2(pipe_fds, O_CLOEXEC) != 0) throw errno_error("pipe");
  UniqueFd status_read(pipe_fds[0]);
  UniqueFd status_write = high_dup(pipe_fds[1]);
  ::close(pipe_fds[1]);

  std::vector<UniqueFd> extra;  // high copies of the caller's fds
  ChildPlan plan{
      {}, status_write.get(), spec.identity ? &*spec.identity : nullptr, argv.data(), ::getpid()};
  int out = spec.capture_output ? output_write.get() : dev_null.get();
  plan.dups = {{dev_null.get(), 0}, {out, 1}, {out, 2}};
  for (const auto& [source, target] : spec.fds) {
    extra.push_back(high_dup(source));
    plan.dups.emplace_back(extra.back().get(), target);
  }

  pid_t pid = ::fork();
  if (pid < 0) throw errno_error("fork");
  if (pid == 0) exec_child(plan);

  output_write.reset();
  status_write.reset();
  ChildProcess child(pid, std::move(output_read));
  int child_errno = 0;
  ssize_t n;
  do {
    n = ::read(status_read.get(), &child_errno, sizeof child_errno);
  } while (n < 0 && errno == EINTR);
  if (n == static_cast<ssize_t>(sizeof child_errno)) {
    child.kill_and_reap();
    throw std::system_error(child_errno, std::generic_category(), "exec " + spec.argv[0]);
  }
  return child;
}

ChildProcess::ChildProcess(ChildProcess&& other) noexcept
    : pid_(std::exchange(other.pid_, -1)), output_(std::move(other.output_)) {}

ChildProcess::~ChildProcess() {
  kill_and_reap();
}

void ChildProcess::kill_and_reap() {
  if (pid_ <= 0) return;
  ::kill(-pid_, SIGKILL);
  ::kill(pid_, SIGKILL);
  while (::waitpid(pid_, nullptr, 0) < 0 && errno == EINTR) {
  }
  pid_ = -1;
}

std::optional<int> ChildProcess::wait_until(std::chrono::steady_clock::time_point deadline,
                                            std::string& output) {
  using namespace std::chrono;
  char buffer[4096];
  while (output_.valid()) {
    auto left = duration_cast<milliseconds>(deadline - steady_clock::now()).count();
    if (left <= 0) return std::nullopt;
    pollfd pfd{output_.get(), POLLIN, 0};
    int ready = ::poll(&pfd, 1, static_cast<int>(left));
    if (ready < 0 && errno == EINTR) continue;
    if (ready <= 0) continue;
    ssize_t n = ::read(output_.get(), buffer, sizeof buffer);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      output_.reset();
      break;
    }
    if (output.size() < kMaxOutput)
      output.append(buffer, std::min<std::size_t>(n, kMaxOutput - output.size()));
  }
  // Output closed: the child is exiting (or handed its fds to a daemon).
  while (true) {
    int status = 0;
    pid_t r = ::waitpid(pid_, &status, WNOHANG);
    if (r == pid_) {
      pid_ = -1;
      ::kill(-r, SIGKILL);  // anything left in its group
      return status;
    }
    if (r < 0 && errno != EINTR) return std::nullopt;
    if (steady_clock::now() >= deadline) return std::nullopt;
    std::this_thread::sleep_for(milliseconds(5));
  }
}

CommandResult run_command(const SpawnSpec& spec, std::chrono::milliseconds timeout) {
  CommandResult result;
  auto deadline = std::chrono::steady_clock::now() + timeout;
  try {
    ChildProcess child = ChildProcess::spawn(spec);
    result.started = true;
    auto status = child.wait_until(deadline, result.output);
    if (!status) {
      result.timed_out = true;
      child.kill_and_reap();
    } else if (WIFEXITED(*status)) {
      result.exit_code = WEXITSTATUS(*status);
    } else if (WIFSIGNALED(*status)) {
      result.exit_code = 128 + WTERMSIG(*status);
    }
  } catch (const std::system_error& e) {
    result.error = e.what();
  }
  result.output = trim(std::move(result.output));
  return result;
}

std::string trim(std::string text) {
  const char* space = " \t\r\n";
  auto begin = text.find_first_not_of(space);
  if (begin == std::string::npos) return {};
  auto end = text.find_last_not_of(space);
  return text.substr(begin, end - begin + 1);
}

}  // namespace blockyard::preflight
