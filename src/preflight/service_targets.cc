#include "preflight/service_targets.h"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <sstream>

namespace blockyard::preflight {

namespace {

std::string lower(std::string_view text) {
  std::string out(text);
  std::transform(out.begin(), out.end(), out.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return out;
}

std::optional<int> parse_port(std::string_view text) {
  int port = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), port);
  if (ec != std::errc() || end != text.data() + text.size() || port < 1 || port > 65535) {
    return std::nullopt;
  }
  return port;
}

}  // namespace

std::optional<UrlParts> parse_url(std::string_view url) {
  auto sep = url.find("://");
  if (sep == std::string_view::npos || sep == 0) return std::nullopt;
  UrlParts parts;
  parts.scheme = lower(url.substr(0, sep));
  std::string_view rest = url.substr(sep + 3);
  rest = rest.substr(0, rest.find_first_of("/?#"));
  if (auto at = rest.rfind('@'); at != std::string_view::npos) rest = rest.substr(at + 1);
  std::string_view port_text;
  if (rest.starts_with("[")) {
    auto close = rest.find(']');
    if (close == std::string_view::npos) return std::nullopt;
    parts.host = std::string(rest.substr(1, close - 1));
    std::string_view after = rest.substr(close + 1);
    if (!after.empty()) {
      if (after[0] != ':') return std::nullopt;
      port_text = after.substr(1);
    }
  } else {
    auto colon = rest.rfind(':');
    parts.host = std::string(rest.substr(0, colon));
    if (colon != std::string_view::npos) port_text = rest.substr(colon + 1);
  }
  if (parts.host.empty()) return std::nullopt;
  if (!port_text.empty()) {
    auto port = parse_port(port_text);
    if (!port) return std::nullopt;
    parts.port = *port;
  }
  return parts;
}

std::optional<HostPort> redis_address(std::string_view url) {
  auto parts = parse_url(url);
  if (!parts || (parts->scheme != "redis" && parts->scheme != "rediss")) return std::nullopt;
  return HostPort{parts->host, parts->port ? parts->port : 6379};
}

std::optional<HostPort> vault_address(std::string_view url) {
  auto parts = parse_url(url);
  if (!parts) return std::nullopt;
  int fallback = parts->scheme == "http" ? 80 : parts->scheme == "https" ? 443 : 0;
  if (fallback == 0) return std::nullopt;
  return HostPort{parts->host, parts->port ? parts->port : fallback};
}

std::optional<HostPort> postgres_address(std::string_view url) {
  if (url.find("://") != std::string_view::npos) {
    auto parts = parse_url(url);
    if (!parts || (parts->scheme != "postgres" && parts->scheme != "postgresql")) {
      return std::nullopt;
    }
    return HostPort{parts->host, parts->port ? parts->port : 5432};
  }
  // libpq keyword/value form (values with spaces in quotes are not needed
  // for host and port).
  std::istringstream words{std::string(url)};
  std::string word, host;
  int port = 5432;
  while (words >> word) {
    auto eq = word.find('=');
    if (eq == std::string::npos) continue;
    std::string key = word.substr(0, eq), value = word.substr(eq + 1);
    if (key == "host" || key == "hostaddr") host = value;
    if (key == "port") {
      auto p = parse_port(value);
      if (!p) return std::nullopt;
      port = *p;
    }
  }
  if (host.empty() || host.starts_with("/")) return std::nullopt;
  return HostPort{host, port};
}

std::vector<EgressTarget> egress_targets(const Config& config, bool include_metadata) {
  std::vector<EgressTarget> targets;
  if (include_metadata) {
    targets.push_back({"cloud_metadata", std::string(kMetadataHost), kMetadataPort, true});
  }
  if (config.redis && !config.redis->url.empty()) {
    if (auto a = redis_address(config.redis->url)) targets.push_back({"redis", a->host, a->port});
  }
  if (config.vault && !config.vault->address.empty()) {
    if (auto a = vault_address(config.vault->address)) {
      targets.push_back({"vault", a->host, a->port});
    }
  }
  if (config.database.driver == "postgres" && !config.database.url.empty()) {
    if (auto a = postgres_address(config.database.url)) {
      targets.push_back({"database", a->host, a->port});
    }
  }
  return targets;
}

}  // namespace blockyard::preflight
