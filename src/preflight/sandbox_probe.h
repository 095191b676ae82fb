// Worker-shaped sandboxes for the checks: the same namespaces, session and
// capability flags as a real worker (taken from the backend's argv builder),
// the host root read-only, private /tmp, /proc and /dev, run as the workers'
// identity when there is one. No seccomp, no bundle.
#pragma once

#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "backend/process/sandbox_mounts.h"
#include "preflight/subprocess.h"

namespace blockyard::preflight {

// argv: bwrap <flags> [--uid U --gid G] [extra_flags] -- command... with
// /proc as the workers get it ([process] worker_procfs).
std::vector<std::string> probe_sandbox_argv(const std::filesystem::path& bwrap,
                                            const std::optional<Identity>& identity,
                                            backend::process::ProcMount proc,
                                            const std::vector<std::string>& extra_flags,
                                            const std::vector<std::string>& command);

// Resolves `program` like a shell would: a path containing '/' as is,
// otherwise through $PATH. nullopt when no executable regular file is found.
std::optional<std::filesystem::path> find_executable(const std::filesystem::path& program);

}  // namespace blockyard::preflight
