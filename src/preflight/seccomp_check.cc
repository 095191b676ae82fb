// seccomp_profile: the compiled BPF blob bwrap gets with --seccomp is
// readable, is a BPF program the kernel accepts, and lets an ordinary program
// run. The load happens in a forked child (no_new_privs + SECCOMP_SET_MODE_FILTER
// then exec /bin/true), so the server itself is never filtered.
#include <fcntl.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <iterator>

#include "preflight/checks.h"
#include "preflight/registry.h"
#include "core/unique_fd.h"

namespace blockyard::preflight {

namespace {

const char* const kWhereToGetIt =
    " [process] seccomp_profile must name the compiled BPF blob (seccomp.bpf), not the JSON "
    "source: extract /etc/blockyard/seccomp.bpf from the blockyard process-backend image, take "
    "seccomp.bpf from the release assets, or compile profiles' JSON with blockyard's "
    "seccomp-compile tool. (`by admin install-seccomp` writes the outer container profile "
    "seccomp.json, which is a different file.)";

constexpr int kLoadFailed = 120;
constexpr int kExecFailed = 121;

// Returns the child's wait status; errno_out gets the load error, if any.
int load_in_child(const std::string& blob, int& errno_out) {
  sock_fprog program{static_cast<unsigned short>(blob.size() / sizeof(sock_filter)),
                     reinterpret_cast<sock_filter*>(const_cast<char*>(blob.data()))};
  int fds[2];
  if (::pipe2(fds, O_CLOEXEC) != 0) {
    errno_out = errno;
    return -1;
  }
  UniqueFd report_read(fds[0]), report_write(fds[1]);
  pid_t pid = ::fork();
  if (pid < 0) {
    errno_out = errno;
    return -1;
  }
  if (pid == 0) {  // async-signal-safe calls only
    ::prctl(PR_SET_PDEATHSIG, SIGKILL);
    int devnull = ::open("/dev/null", O_RDWR);
    if (devnull >= 0) {
      ::dup2(devnull, 1);
      ::dup2(devnull, 2);
    }
    if (::prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0 ||
        ::syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, &program) != 0) {
      int err = errno;
      [[maybe_unused]] auto n = ::write(report_write.get(), &err, sizeof err);
      ::_exit(kLoadFailed);
    }
    char* const argv[] = {const_cast<char*>("/bin/true"), nullptr};
    ::execv(argv[0], argv);
    ::_exit(kExecFailed);
  }
  report_write.reset();
  int err = 0;
  if (::read(report_read.get(), &err, sizeof err) == static_cast<ssize_t>(sizeof err)) {
    errno_out = err;
  }
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  return status;
}

}  // namespace

CheckResult check_seccomp_profile(const CheckContext& context) {
  const std::string name = "seccomp_profile";
  std::string path = context.process().seccomp_profile;
  if (path.empty()) {
    return result(name, kInfo,
                  "no seccomp profile configured: workers run without the inner syscall "
                  "filter. Set [process] seccomp_profile = \"/etc/blockyard/seccomp.bpf\".");
  }
  std::string where = "seccomp profile \"" + path + "\"";
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) {
    return result(name, kError, where + ": " + std::strerror(errno) + "." + kWhereToGetIt);
  }
  if (!S_ISREG(st.st_mode)) {
    return result(name, kError, where + " is not a regular file." + kWhereToGetIt);
  }
  std::ifstream in(path, std::ios::binary);
  std::string blob((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  if (!in.good() && !in.eof()) {
    return result(name, kError, where + " cannot be read." + kWhereToGetIt);
  }
  if (blob.empty()) return result(name, kError, where + " is empty." + kWhereToGetIt);
  if (blob.front() == '{' || blob.front() == '[') {
    return result(name, kError, where + " looks like JSON, not compiled BPF." + kWhereToGetIt);
  }
  if (blob.size() % sizeof(sock_filter) != 0 || blob.size() / sizeof(sock_filter) > BPF_MAXINSNS) {
    return result(name, kError,
                  where + " is not a BPF program (" + std::to_string(blob.size()) +
                      " bytes is not a whole number of at most 4096 instructions)." +
                      kWhereToGetIt);
  }
  int load_errno = 0;
  int status = load_in_child(blob, load_errno);
  if (status == -1) {
    return result(name, kError, where + ": could not test it: " + std::strerror(load_errno));
  }
  if (WIFEXITED(status) && WEXITSTATUS(status) == kLoadFailed) {
    return result(name, kError,
                  where + " was rejected by the kernel (" + std::strerror(load_errno) +
                      "): the file is corrupt or not a seccomp filter." + kWhereToGetIt);
  }
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
    std::string how = WIFSIGNALED(status) ? "killed by signal " + std::to_string(WTERMSIG(status))
                                          : "exit " + std::to_string(WEXITSTATUS(status));
    return result(name, kError,
                  where + " loads, but /bin/true cannot run under it (" + how +
                      "): it blocks calls every program needs. Use the profile shipped with "
                      "this blockyard version.");
  }
  return result(name, kOk,
                where + " loads (" + std::to_string(blob.size() / sizeof(sock_filter)) +
                    " BPF instructions) and a program runs under it");
}

}  // namespace blockyard::preflight
