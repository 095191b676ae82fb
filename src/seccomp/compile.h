// Compiles a Profile into a seccomp filter with libseccomp.
//
// The filter covers the target architecture (the build host's, unless
// CompileOptions::arch names another) plus the extra architectures the
// profile's archMap lists for it; calls from any other architecture get the
// profile's badArchAction. Output is deterministic: the same profile and
// libseccomp version give byte-identical programs.
//
// Failures (libseccomp refusing a rule, unknown architecture) throw
// SeccompError naming the rule and syscall. Thread-safe: each call builds its
// own libseccomp context.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "seccomp/profile.h"

namespace blockyard::seccomp {

struct CompileOptions {
  std::string arch;  // libseccomp name ("x86_64", "aarch64"); empty = native
};

// The raw classic-BPF program (an array of struct sock_filter), exactly what
// `bwrap --seccomp FD` reads from FD.
std::vector<std::uint8_t> compile_bpf(const Profile& profile, const CompileOptions& options = {});

// libseccomp's human-readable rendering of the same filter, for review.
std::string compile_pfc(const Profile& profile, const CompileOptions& options = {});

}  // namespace blockyard::seccomp
