// The process backend: every worker is `Rscript -e shiny::runApp(...)` inside
// its own bubblewrap sandbox (user, pid, ipc, uts and — where possible —
// cgroup namespaces; read-only host root; private /proc, /dev and /tmp; the
// bundle read-only at bundle_worker_path; all capabilities dropped; an
// environment built from scratch). Workers listen on 127.0.0.1:<port>, the
// port taken from [process] port_range_start..port_range_end.
//
// Not yet here (later layers): per-worker host UIDs through the setuid shim,
// the inner seccomp profile, cgroup limits, network namespaces, preflight.
//
// Thread safety: every method may be called concurrently (see Backend).
// Workers stay in the table after they exit — status(), logs() and
// list_managed() keep reporting them (running = false) — until log_retention
// has passed since the exit; a new spawn with the same id replaces them.
// Destroying the backend stops every worker.
#pragma once

#include <chrono>
#include <filesystem>
#include <map>
#include <memory>
#include <string>

#include "backend/backend.h"

namespace blockyard::backend::process {

struct ProcessBackendOptions {
  std::filesystem::path bwrap_path = "/usr/bin/bwrap";  // [process] bwrap_path
  std::filesystem::path r_path = "/usr/bin/R";          // [process] r_path; Rscript beside it
  int port_range_start = 10000;                         // [process] port_range_start
  int port_range_end = 10999;                           // [process] port_range_end
  std::filesystem::path bundle_worker_path = "/app";    // [storage] bundle_worker_path
  // Per-worker files (none yet; later: tokens, sockets). <bundle_server_path>/.workers.
  std::filesystem::path state_dir;
  std::chrono::milliseconds log_retention = std::chrono::hours(1);  // [proxy] log_retention
  std::map<std::string, std::string> worker_env;                    // [server] worker_env
  std::size_t log_lines = 10000;                                    // lines kept per worker
  std::chrono::milliseconds health_timeout{1000};
};

// Throws std::invalid_argument when bwrap or Rscript is not an executable
// file, the port range is empty, or bundle_worker_path is unusable.
std::unique_ptr<Backend> make_process_backend(const ProcessBackendOptions& options);

}  // namespace blockyard::backend::process
