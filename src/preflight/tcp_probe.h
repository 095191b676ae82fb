// A TCP reachability probe: resolve, connect with a deadline, close. Used by
// `blockyard probe --tcp` (inside a sandbox) and by cloud_metadata/redis_auth.
// Thread-safe; never throws for network failures.
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <string_view>

#include "core/unique_fd.h"

namespace blockyard::preflight {

struct HostPort {
  std::string host;  // without IPv6 brackets
  int port = 0;
};

// Parses "host:port" or "[v6]:port"; nullopt when malformed or port not in
// 1..65535.
std::optional<HostPort> parse_host_port(std::string_view text);

struct ConnectResult {
  UniqueFd socket;    // connected, blocking, when ok
  std::string error;  // "connection refused", "timed out", resolver text, ...
  bool ok() const { return socket.valid(); }
};

// Tries every resolved address until one connects or `timeout` is spent.
ConnectResult tcp_connect(const std::string& host, int port, std::chrono::milliseconds timeout);

}  // namespace blockyard::preflight
