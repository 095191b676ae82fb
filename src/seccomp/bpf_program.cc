#include "seccomp/bpf_program.h"

#include <fcntl.h>
#include <linux/seccomp.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <iterator>

#include "seccomp/seccomp_error.h"

namespace blockyard::seccomp {

BpfProgram BpfProgram::from_bytes(std::span<const std::uint8_t> bytes) {
  if (bytes.empty()) throw SeccompError("seccomp BPF program is empty");
  if (bytes.size() % sizeof(sock_filter) != 0) {
    throw SeccompError("seccomp BPF program has " + std::to_string(bytes.size()) +
                       " bytes, not a whole number of 8-byte instructions");
  }
  const std::size_t count = bytes.size() / sizeof(sock_filter);
  if (count > BPF_MAXINSNS) {
    throw SeccompError("seccomp BPF program has " + std::to_string(count) +
                       " instructions; the kernel accepts at most " + std::to_string(BPF_MAXINSNS));
  }
  std::vector<sock_filter> instructions(count);
  std::memcpy(instructions.data(), bytes.data(), bytes.size());
  return BpfProgram(std::move(instructions));
}

BpfProgram BpfProgram::from_file(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    throw SeccompError("cannot read seccomp BPF file " + path.string() + ": " +
                       std::strerror(errno));
  }
  std::vector<std::uint8_t> bytes((std::istreambuf_iterator<char>(in)),
                                  std::istreambuf_iterator<char>());
  if (in.bad()) throw SeccompError("error reading seccomp BPF file " + path.string());
  try {
    return from_bytes(bytes);
  } catch (const SeccompError& e) {
    throw SeccompError(path.string() + ": " + e.what());
  }
}

void BpfProgram::install_on_current_thread() const {
  sock_fprog program{};
  program.len = static_cast<unsigned short>(instructions_.size());
  program.filter = const_cast<sock_filter*>(instructions_.data());
  if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) {
    throw SeccompError(std::string("prctl(PR_SET_NO_NEW_PRIVS): ") + std::strerror(errno));
  }
  if (prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &program) != 0) {
    throw SeccompError(std::string("the kernel rejected the seccomp filter: ") +
                       std::strerror(errno));
  }
}

std::string BpfProgram::check_loadable_in_child() const {
  sock_fprog program{};
  program.len = static_cast<unsigned short>(instructions_.size());
  program.filter = const_cast<sock_filter*>(instructions_.data());
  const pid_t pid = fork();
  if (pid < 0) return std::string("fork: ") + std::strerror(errno);
  if (pid == 0) {
    // Child: raw syscalls only (the parent may be multi-threaded). The
    // exit code carries errno so the parent can name the reason.
    if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) _exit(100);
    if (prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &program) != 0) _exit(errno & 0x7f);
    _exit(0);
  }
  int status = 0;
  while (waitpid(pid, &status, 0) < 0) {
    if (errno != EINTR) return std::string("waitpid: ") + std::strerror(errno);
  }
  if (WIFSIGNALED(status)) {
    // The filter's own exit_group denial would show up here.
    return "check process was killed by signal " + std::to_string(WTERMSIG(status));
  }
  const int code = WEXITSTATUS(status);
  if (code == 0) return "";
  if (code == 100) return "prctl(PR_SET_NO_NEW_PRIVS) failed";
  return std::string("the kernel rejected the seccomp filter: ") + std::strerror(code);
}

}  // namespace blockyard::seccomp
