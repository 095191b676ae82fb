// The privilege shim `blockyard bwrap-exec --uid U --gid G -- <bwrap> <args…>`.
// When the server runs as root it starts every sandbox through this shim so
// that bwrap — and everything in the sandbox — runs as the worker's own host
// UID U with the shared worker GID G (bwrap then writes the identity map
// "U U 1"). The shim drops every supplementary group, sets the GID, then the
// UID, marks itself dumpable again (a credential change clears it, and a
// non-dumpable process cannot write its own /proc/self/uid_map, which bwrap
// must do), and execs bwrap with the current environment and inherited fds.
// With `--bundle DIR` it first stages DIR read-only at kStagedBundlePath in a
// private mount namespace, so bwrap never needs to reach the server's data
// directory; without the privilege for that (no CAP_SYS_ADMIN, as in a
// container with Docker's default capabilities) it rewrites bwrap's
// arguments to bind DIR itself, which the worker GID can then reach.
#pragma once

#include <string>
#include <vector>

namespace blockyard::backend::process {

// The subcommand name, argv[1] of the server binary.
inline constexpr const char* kBwrapExecCommand = "bwrap-exec";
// Where `--bundle DIR` appears for bwrap.
inline constexpr const char* kStagedBundlePath = "/tmp/.blockyard-bundle";

// argv[0] is the program, argv[1] "bwrap-exec". Execs bwrap on success and so
// never returns then; returns 1 (after a message on stderr) on bad arguments
// or a failed credential change or exec; returns 1 when asked to become root.
int run_bwrap_exec(int argc, char** argv);

// The shim's argv for running `bwrap_argv` as uid:gid through `self_exe`;
// a non-empty `bundle` is staged at kStagedBundlePath.
std::vector<std::string> bwrap_exec_argv(const std::string& self_exe, int uid, int gid,
                                         const std::string& bundle,
                                         const std::vector<std::string>& bwrap_argv);

}  // namespace blockyard::backend::process
