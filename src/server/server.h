// The blockyard server process: wires configuration, store, backend, data
// plane and API together, serves until SIGTERM/SIGINT, then shuts down
// gracefully (stop accepting, let in-flight requests finish, stop every
// worker).
#pragma once

#include <filesystem>

#include "core/config.h"

namespace blockyard::server {

// When [process] seccomp_profile is unset, use the inner profile this build
// installed: /etc/blockyard/seccomp.bpf, else seccomp.bpf beside the build's
// bin/ directory. "none" turns the inner profile off explicitly.
void apply_default_seccomp_profile(Config& config);

// Runs the server with an already loaded configuration. Returns the process
// exit code (0 after a clean shutdown). Throws std::runtime_error when start-up
// fails (port in use, database unusable, ...).
int run_server(const Config& config);

}  // namespace blockyard::server
