// Build jobs: run-to-completion commands (dependency restore) in the same
// sandbox as a worker — bwrap namespaces, capabilities dropped, the inner
// seccomp filter, a UID of their own (ProcessOptions::run_as, as root),
// a cgroup with the worker limits, rlimits — with the bundle read-only at
// spec.bundle_mount, the output directory read-write at spec.output_mount,
// the host network kept, and a timeout that kills the whole process tree.
//
// As root, bwrap runs under the job's UID, which cannot traverse the
// server's data directory; the job's directories reach it as a worker's
// bundle does (bind_staging.h). The output directory is handed to the job's
// UID for the run and back to the server's UID/GID afterwards, so a later
// worker that reuses the UID cannot modify it.
//
// Thread safety: run_build_job() may run concurrently for distinct build
// ids; the context's allocator and cgroup manager are shared safely.
#pragma once

#include <filesystem>
#include <string>
#include <vector>

#include "backend/backend.h"
#include "backend/process/cgroups.h"
#include "backend/process/sandbox_launch.h"
#include "backend/process/uid_allocator.h"
#include "backend/process/worker_process.h"

namespace blockyard::backend::process {

// What a build job borrows from the backend that runs it.
struct BuildContext {
  LaunchConfig launch;                     // bwrap, hidden paths, seccomp, identity, marker
  std::filesystem::path r_path;            // argv[0] "R" runs this
  std::filesystem::path rscript;           // argv[0] "Rscript" runs this
  state::RangeAllocator* uids = nullptr;   // required
  const CgroupManager* cgroups = nullptr;  // null: no cgroup
  ResourceLimits limits;                   // resolved from the spec and the defaults
  std::vector<ProcessOptions::Rlimit> rlimits;
};

// The name under which a job's cgroup and sandbox marker
// appear; never a valid worker id ('~' is outside the worker id alphabet).
std::string build_job_name(const std::string& build_id);

// Runs the job and returns once it ended and every process of it is gone.
// Never throws: setup failures are returned in BuildResult::error and
// appended to spec.log as "build: <error>".
BuildResult run_build_job(const BuildContext& context, const BuildSpec& spec);

}  // namespace blockyard::backend::process
