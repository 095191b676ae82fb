// Where the services blockyard itself talks to live, from the configuration:
// the hosts and ports workers must not be able to reach. Pure functions.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/config.h"
#include "preflight/check_context.h"
#include "preflight/tcp_probe.h"

namespace blockyard::preflight {

inline constexpr std::string_view kMetadataHost = "169.254.169.254";
inline constexpr int kMetadataPort = 80;

struct UrlParts {
  std::string scheme;  // lower-case
  std::string host;    // without brackets
  int port = 0;        // 0 when absent
};

// scheme://[userinfo@]host[:port][/...]; nullopt when there is no "://" or no
// host, or the port is not a number in 1..65535.
std::optional<UrlParts> parse_url(std::string_view url);

// redis:// and rediss:// URLs, default port 6379.
std::optional<HostPort> redis_address(std::string_view url);
// http => 80, https => 443 by default; other schemes nullopt.
std::optional<HostPort> vault_address(std::string_view url);
// postgres:// or postgresql:// URLs, or libpq "host=... port=..." strings;
// default port 5432; nullopt without a host (or a Unix socket directory).
std::optional<HostPort> postgres_address(std::string_view url);

// The services of §worker_egress, in order: cloud_metadata (critical; only
// when include_metadata), redis, vault, database (driver postgres only).
std::vector<EgressTarget> egress_targets(const Config& config, bool include_metadata);

}  // namespace blockyard::preflight
