// Endpoint: where a worker serves HTTP. Either TCP (host and port; the host
// is whatever the backend bound, never assumed) or a Unix domain socket.
// A default-constructed Endpoint is empty: nothing to connect to yet.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace blockyard {

struct Endpoint {
  std::string host;       // TCP: an IP address literal ("127.0.0.1", "::1")
  int port = 0;           // TCP: 1-65535
  std::string unix_path;  // non-empty = Unix domain socket; host/port unused

  static Endpoint tcp(std::string host, int port) { return Endpoint{std::move(host), port, {}}; }
  static Endpoint unix_socket(std::string path) { return Endpoint{{}, 0, std::move(path)}; }

  bool is_unix() const { return !unix_path.empty(); }
  bool empty() const { return unix_path.empty() && port == 0; }
  // "unix:/path", "host:port" or "[v6]:port"; "" when empty.
  std::string to_string() const;
  // The inverse of to_string(); nullopt for anything else.
  static std::optional<Endpoint> parse(std::string_view text);

  friend bool operator==(const Endpoint&, const Endpoint&) = default;
};

}  // namespace blockyard
