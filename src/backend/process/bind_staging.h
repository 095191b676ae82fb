// How a sandbox that bwrap builds as a worker UID (ProcessOptions::run_as,
// as root) reaches the host directories it binds — the bundle for a worker; the
// bundle, output directory and caches for a build job. That UID cannot
// traverse the server's data directory (0700, or 0710 to the worker GID).
//
// Where this process may create a mount namespace (CAP_SYS_ADMIN; see
// can_stage_private_mounts()), every bind's source is staged through
// ProcessOptions::private_binds: the child, still root, binds it under
// kPrivateStagingDir in a mount namespace of its own, and bwrap binds it from
// there. Otherwise — a container with Docker's default capabilities — bwrap
// binds the host paths themselves, reaching them through the worker GID's
// search permission, which the server grants on its data directories exactly
// when workers run as worker UIDs (see runs_workers_as_own_uids()).
#pragma once

#include <vector>

#include "backend/process/sandbox_mounts.h"
#include "backend/process/worker_process.h"

namespace blockyard::backend::process {

// With `as_worker_uid` and mount privilege: rewrites each bind's source to
// its staged path and returns the private binds that put it there (read-only
// binds are staged read-only). Otherwise leaves `binds` alone and returns
// none. Throws std::runtime_error for more than kMaxPrivateBinds binds when
// staging.
std::vector<ProcessOptions::PrivateBind> stage_binds(std::vector<SandboxBind>& binds,
                                                     bool as_worker_uid);

}  // namespace blockyard::backend::process
