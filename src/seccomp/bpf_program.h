// BpfProgram: a compiled seccomp filter as bwrap consumes it (`--seccomp FD`
// reads raw struct sock_filter records until EOF), with helpers to check a
// blob before handing it to bwrap.
//
// Construction validates the shape only (non-empty, whole instructions, at
// most BPF_MAXINSNS); whether the kernel accepts it is what
// check_loadable_in_child() answers. Immutable after construction, so safe to
// share between threads.
#pragma once

#include <linux/filter.h>

#include <cstdint>
#include <filesystem>
#include <span>
#include <string>
#include <vector>

namespace blockyard::seccomp {

class BpfProgram {
 public:
  // Throws SeccompError when `bytes` is not a plausible filter program.
  static BpfProgram from_bytes(std::span<const std::uint8_t> bytes);
  // Reads a .bpf file (e.g. [process] seccomp_profile). Throws SeccompError
  // naming the path on I/O or shape errors.
  static BpfProgram from_file(const std::filesystem::path& path);

  std::size_t instruction_count() const { return instructions_.size(); }
  const std::vector<sock_filter>& instructions() const { return instructions_; }

  // Installs the filter on the calling thread the way bwrap does:
  // PR_SET_NO_NEW_PRIVS, then PR_SET_SECCOMP/SECCOMP_MODE_FILTER. Irreversible
  // for this thread and its future children; only call it in a process that
  // is about to become the sandboxed program (or in a test child). Throws
  // SeccompError with the kernel's reason.
  void install_on_current_thread() const;

  // Forks a child that installs the filter and exits, so the kernel's own
  // verifier judges the program without affecting the caller. Returns an
  // empty string when it loads, else the reason. Safe to call from a
  // multi-threaded process (the child only makes raw syscalls).
  std::string check_loadable_in_child() const;

 private:
  explicit BpfProgram(std::vector<sock_filter> instructions)
      : instructions_(std::move(instructions)) {}

  std::vector<sock_filter> instructions_;
};

}  // namespace blockyard::seccomp
