#include "core/endpoint.h"

#include <charconv>

namespace blockyard {

std::string Endpoint::to_string() const {
  if (is_unix()) return "unix:" + unix_path;
  if (port == 0) return "";
  const bool v6 = host.find(':') != std::string::npos;
  return (v6 ? "[" + host + "]" : host) + ":" + std::to_string(port);
}

std::optional<Endpoint> Endpoint::parse(std::string_view text) {
  if (text.starts_with("unix:")) {
    text.remove_prefix(5);
    if (text.empty() || text.front() != '/') return std::nullopt;
    return unix_socket(std::string(text));
  }
  const auto colon = text.rfind(':');
  if (colon == std::string_view::npos || colon == 0) return std::nullopt;
  std::string_view host = text.substr(0, colon);
  const std::string_view digits = text.substr(colon + 1);
  if (host.front() == '[') {
    if (host.size() < 3 || host.back() != ']') return std::nullopt;
    host = host.substr(1, host.size() - 2);
  } else if (host.find(':') != std::string_view::npos) {
    return std::nullopt;  // a bare IPv6 literal is ambiguous
  }
  int port = 0;
  auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), port);
  if (ec != std::errc() || end != digits.data() + digits.size() || port < 1 || port > 65535)
    return std::nullopt;
  return tcp(std::string(host), port);
}

}  // namespace blockyard
