// The environment a worker sees. It is built from scratch — the server's own
// environment (database URLs, secrets, tokens) never reaches a worker:
//   PATH=/usr/bin:/bin HOME=/tmp TMPDIR=/tmp LANG=C.UTF-8
//   SHINY_SERVER_VERSION=0.3.4 (what Shiny expects beside SHINY_PORT)
//   then server.worker_env, then the spawn's own entries (later wins),
//   then SHINY_HOST=127.0.0.1 and SHINY_PORT=<port>, which nothing overrides.
#pragma once

#include <map>
#include <string>
#include <utility>
#include <vector>

namespace blockyard::backend::process {

using EnvList = std::vector<std::pair<std::string, std::string>>;

// The lowest Shiny Server version shiny::runApp() accepts without a warning.
inline constexpr const char* kShinyServerVersion = "0.3.4";

// Each name appears once, at its first position, with its last value.
// Throws std::invalid_argument for an empty name, a name containing '=' or
// NUL, or a value containing NUL.
EnvList worker_environment(const std::map<std::string, std::string>& server_worker_env,
                           const std::map<std::string, std::string>& spawn_env, int port);

// A build job's environment: the same base (with /usr/local/bin on PATH, where
// operators install extra tools), then `build_env`. No Shiny variables.
// Throws std::invalid_argument like worker_environment().
EnvList build_environment(const std::map<std::string, std::string>& build_env);

}  // namespace blockyard::backend::process
