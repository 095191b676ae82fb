// The privilege shim `blockyard bwrap-exec --uid U --gid G -- <bwrap> <args…>`.
// When the server runs as root it starts every sandbox through this shim so
// that bwrap — and everything in the sandbox — runs as the worker's own host
// UID U with the shared worker GID G (bwrap then writes the identity map
// "U U 1"). The shim drops every supplementary group, sets the GID, then the
// UID, marks itself dumpable again (a credential change clears it, and a
// non-dumpable process cannot write its own /proc/self/uid_map, which bwrap
// must do), and execs bwrap with the current environment and inherited fds.
// The shim stages nothing: directories bwrap binds reach it through
// ProcessOptions::private_binds, set up before the shim runs (bind_staging.h).
#pragma once

#include <string>
#include <vector>

namespace blockyard::backend::process {

// The subcommand name, argv[1] of the server binary.
inline constexpr const char* kBwrapExecCommand = "bwrap-exec";

// argv[0] is the program, argv[1] "bwrap-exec". Execs bwrap on success and so
// never returns then; returns 1 (after a message on stderr) on bad arguments
// or a failed credential change or exec; returns 1 when asked to become root.
int run_bwrap_exec(int argc, char** argv);

// The shim's argv for running `bwrap_argv` as uid:gid through `self_exe`.
std::vector<std::string> bwrap_exec_argv(const std::string& self_exe, int uid, int gid,
                                         const std::vector<std::string>& bwrap_argv);

}  // namespace blockyard::backend::process
