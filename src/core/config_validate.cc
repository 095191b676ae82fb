// Validation of a loaded Config. Rules follow the original's order (backend,
// oidc, vault, redis, database/vault, audit, data mounts, runtime defaults,
// trusted proxies), then the ranges and enumerations the original leaves
// unchecked, then the filesystem checks last so that a config with a plain
// mistake creates no directories.
#include <arpa/inet.h>
#include <fmt/format.h>
#include <stdlib.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <set>

#include "core/config_schema.h"

namespace blockyard::config_detail {
namespace {

[[noreturn]] void fail(const std::string& message) {
  throw ConfigError("config: " + message);
}

bool one_of(std::string_view value, std::initializer_list<std::string_view> allowed) {
  return std::find(allowed.begin(), allowed.end(), value) != allowed.end();
}

bool is_http_url(std::string_view url) {
  return (url.starts_with("http://") && url.size() > 7) ||
         (url.starts_with("https://") && url.size() > 8);
}

bool all_digits(std::string_view text) {
  return !text.empty() && text.size() <= 5 &&
         std::all_of(text.begin(), text.end(), [](char c) { return c >= '0' && c <= '9'; });
}

bool is_ipv6(const std::string& text) {
  in6_addr address{};
  return inet_pton(AF_INET6, text.c_str(), &address) == 1;
}

bool is_ipv4(const std::string& text) {
  in_addr address{};
  return inet_pton(AF_INET, text.c_str(), &address) == 1;
}

bool valid_cidr(std::string_view text) {
  const auto slash = text.find('/');
  if (slash == std::string_view::npos) return false;
  const std::string address(text.substr(0, slash));
  const std::string_view prefix = text.substr(slash + 1);
  int max_prefix = 0;
  if (is_ipv4(address)) {
    max_prefix = 32;
  } else if (is_ipv6(address)) {
    max_prefix = 128;
  } else {
    return false;
  }
  return all_digits(prefix) && prefix.size() <= 3 && std::stoi(std::string(prefix)) <= max_prefix;
}

// "host:port", ":port" or "[v6]:port" with port 0-65535 (0 = kernel picks).
void check_listen_address(const std::string& key, const std::string& address) {
  const auto colon = address.rfind(':');
  const auto bad = [&](std::string_view why) {
    fail(fmt::format("{}: invalid listen address \"{}\": {}", key, address, why));
  };
  if (colon == std::string::npos) bad("expected host:port");
  const std::string host = address.substr(0, colon);
  const std::string port = address.substr(colon + 1);
  if (!all_digits(port) || std::stoi(port) > 65535) bad("port must be a number from 0 to 65535");
  if (host.starts_with('[')) {
    if (!host.ends_with(']') || !is_ipv6(host.substr(1, host.size() - 2))) {
      bad("bracketed host must be an IPv6 address");
    }
  } else if (host.find(':') != std::string::npos) {
    bad("write an IPv6 host in brackets, e.g. [::1]:8080");
  }
}

void check_port(const std::string& key, int port) {
  if (port < 1 || port > 65535) fail(fmt::format("{}: must be from 1 to 65535, got {}", key, port));
}

void check_at_least(const std::string& key, std::int64_t value, std::int64_t minimum) {
  if (value < minimum) fail(fmt::format("{}: must be at least {}, got {}", key, minimum, value));
}

void check_not_negative(const std::string& key, Duration value) {
  if (value.count() < 0) fail(fmt::format("{}: must not be negative", key));
}

void check_positive(const std::string& key, Duration value) {
  if (value.count() <= 0) fail(fmt::format("{}: must be greater than 0", key));
}

void check_backend(const Config& config) {
  if (config.server.backend != "process") {
    fail(
        fmt::format("server.backend: only \"process\" is supported (the docker backend is not "
                    "implemented), got \"{}\"",
                    config.server.backend));
  }
  if (!config.process) fail("[process] section required when backend = \"process\"");
  const ProcessConfig& process = *config.process;
  check_port("process.port_range_start", process.port_range_start);
  check_port("process.port_range_end", process.port_range_end);
  if (process.port_range_end < process.port_range_start) {
    fail("process.port_range_end must be >= process.port_range_start");
  }
  // UID 0 would run workers as root; the range stays in 32-bit UID space.
  check_at_least("process.worker_uid_range_start", process.worker_uid_range_start, 1);
  check_at_least("process.worker_uid_range_end", process.worker_uid_range_end, 1);
  if (process.worker_uid_range_end < process.worker_uid_range_start) {
    fail("process.worker_uid_range_end must be >= process.worker_uid_range_start");
  }
  const std::int64_t uids =
      std::int64_t{process.worker_uid_range_end} - process.worker_uid_range_start + 1;
  const std::int64_t ports = std::int64_t{process.port_range_end} - process.port_range_start + 1;
  if (uids < ports) {
    fail(fmt::format(
        "process.worker_uid_range must be at least as large as port_range (got {} UIDs vs {} "
        "ports)",
        uids, ports));
  }
  check_at_least("process.worker_gid", process.worker_gid, 1);
  if (process.bwrap_path.empty()) fail("process.bwrap_path must not be empty");
  if (process.r_path.empty()) fail("process.r_path must not be empty");
  if (process.worker_procfs != "fresh" && process.worker_procfs != "none")
    fail("process.worker_procfs must be \"fresh\" or \"none\" (got \"" + process.worker_procfs +
         "\")");
}

constexpr std::size_t kMinSessionSecret = 32;

void check_oidc(const Config& config) {
  if (!config.oidc) return;
  const OidcConfig& oidc = *config.oidc;
  if (config.server.external_url.empty())
    fail("server.external_url is required when [oidc] is set");
  if (oidc.issuer_url.empty()) fail("oidc.issuer_url must not be empty");
  if (!is_http_url(oidc.issuer_url)) fail("oidc.issuer_url must start with http:// or https://");
  if (!oidc.issuer_discovery_url.empty() && !is_http_url(oidc.issuer_discovery_url)) {
    fail("oidc.issuer_discovery_url must start with http:// or https://");
  }
  if (oidc.client_id.empty()) fail("oidc.client_id must not be empty");
  if (oidc.client_secret.empty()) fail("oidc.client_secret must not be empty");
  // The session secret signs the sign-in cookies; it cannot come from
  // [vault] in this version, so it is required whatever else is set.
  if (config.server.session_secret.empty()) {
    fail(
        "server.session_secret is required when [oidc] is set (e.g. the output of "
        "`openssl rand -hex 32`)");
  }
  if (config.server.session_secret.size() < kMinSessionSecret) {
    fail(
        fmt::format("server.session_secret must be at least {} characters: it signs the "
                    "sign-in cookies (e.g. the output of `openssl rand -hex 32`)",
                    kMinSessionSecret));
  }
  for (const auto& scope : oidc.extra_scopes) {
    if (scope.empty() || scope.find_first_of(" \t\"") != std::string::npos) {
      fail(fmt::format("oidc.extra_scopes: invalid scope \"{}\"", scope));
    }
  }
  if (!one_of(oidc.default_role, {"viewer", "publisher"})) {
    fail(fmt::format("oidc.default_role must be \"viewer\" or \"publisher\", got \"{}\"",
                     oidc.default_role));
  }
  check_positive("oidc.cookie_max_age", oidc.cookie_max_age);
}

void check_vault(const Config& config) {
  if (!config.vault) return;
  const VaultConfig& vault = *config.vault;
  if (vault.address.empty()) fail("vault.address must not be empty");
  if (!is_http_url(vault.address)) fail("vault.address must start with http:// or https://");
  if (!vault.admin_token.empty() && !vault.role_id.empty()) {
    fail("vault.admin_token and vault.role_id are mutually exclusive; set one");
  }
  if (vault.admin_token.empty() && vault.role_id.empty()) {
    fail("vault.role_id (or the deprecated vault.admin_token) is required");
  }
  if (vault.secret_id_wrapped && vault.secret_id_file.empty()) {
    fail("vault.secret_id_wrapped requires vault.secret_id_file");
  }
  if (!config.oidc) fail("[vault] requires [oidc]");
  check_positive("vault.token_ttl", vault.token_ttl);
  std::set<std::string> ids;
  for (std::size_t i = 0; i < vault.services.size(); ++i) {
    const auto& service = vault.services[i];
    if (service.id.empty()) fail(fmt::format("vault.services[{}].id must not be empty", i));
    if (service.label.empty()) fail(fmt::format("vault.services[{}].label must not be empty", i));
    if (!ids.insert(service.id).second) {
      fail(fmt::format("vault.services: duplicate id \"{}\"", service.id));
    }
  }
}

void check_database_vault(const Config& config) {
  const DatabaseConfig& db = config.database;
  if (!db.vault_role.empty()) {
    if (!config.vault) fail("database.vault_role requires [vault]");
    if (db.driver != "postgres")
      fail("database.vault_role requires database.driver = \"postgres\"");
    if (db.vault_mount.empty()) fail("database.vault_role requires database.vault_mount");
  }
  if (db.board_storage) {
    if (!config.vault) fail("database.board_storage requires [vault]");
    if (db.driver != "postgres") {
      fail("database.board_storage requires database.driver = \"postgres\"");
    }
    if (db.vault_mount.empty()) fail("database.board_storage requires database.vault_mount");
    if (db.vault_db_connection.empty()) {
      fail("database.board_storage requires database.vault_db_connection");
    }
  }
  check_positive("database.vault_rotation_period", db.vault_rotation_period);
}

void check_data_mounts(const StorageConfig& storage) {
  std::set<std::string> names;
  for (const auto& mount : storage.data_mounts) {
    if (mount.name.empty()) fail("storage.data_mounts: name must not be empty");
    const bool valid_name = std::all_of(mount.name.begin(), mount.name.end(), [](char c) {
      return std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '-';
    });
    if (!valid_name) {
      fail(fmt::format("storage.data_mounts: name \"{}\" may only contain A-Z, a-z, 0-9, _ and -",
                       mount.name));
    }
    if (!mount.path.starts_with('/')) {
      fail(fmt::format("storage.data_mounts: path \"{}\" of \"{}\" must be absolute", mount.path,
                       mount.name));
    }
    if (!names.insert(mount.name).second) {
      fail(fmt::format("storage.data_mounts: duplicate name \"{}\"", mount.name));
    }
  }
}

void check_server(const ServerConfig& server) {
  check_listen_address("server.bind", server.bind);
  if (!server.management_bind.empty()) {
    check_listen_address("server.management_bind", server.management_bind);
  }
  if (!one_of(server.log_level, {"trace", "debug", "info", "warn", "warning", "error"})) {
    fail(fmt::format("server.log_level must be one of trace, debug, info, warn, error; got \"{}\"",
                     server.log_level));
  }
  if (!server.external_url.empty() && !is_http_url(server.external_url)) {
    fail("server.external_url must start with http:// or https://");
  }
  if (server.default_cpu_limit < 0) fail("server.default_cpu_limit must not be negative");
  if (!server.default_memory_limit.empty()) {
    try {
      parse_memory_size(server.default_memory_limit);
    } catch (const std::invalid_argument& e) {
      fail(fmt::format("server.default_memory_limit: {}", e.what()));
    }
  }
  check_not_negative("server.shutdown_timeout", server.shutdown_timeout);
  check_not_negative("server.drain_timeout", server.drain_timeout);
  for (const auto& [name, value] : server.worker_env) {
    const bool valid = !name.empty() && name.find('=') == std::string::npos &&
                       name.find('\0') == std::string::npos;
    if (!valid) fail(fmt::format("server.worker_env: invalid variable name \"{}\"", name));
  }
  for (const auto& proxy : server.trusted_proxies) {
    if (!valid_cidr(proxy)) {
      fail(
          fmt::format("server.trusted_proxies: invalid CIDR \"{}\" (write a single address as e.g. "
                      "10.0.0.1/32)",
                      proxy));
    }
  }
}

void check_storage(const StorageConfig& storage) {
  if (storage.bundle_server_path.empty()) fail("storage.bundle_server_path must not be empty");
  if (!storage.bundle_worker_path.starts_with('/')) {
    fail("storage.bundle_worker_path must be an absolute path");
  }
  check_at_least("storage.bundle_retention", storage.bundle_retention, 1);
  check_at_least("storage.max_bundle_size", storage.max_bundle_size, 1);
  check_not_negative("storage.soft_delete_retention", storage.soft_delete_retention);
  check_not_negative("storage.store_retention", storage.store_retention);
}

// "Name=URL" or a bare URL; the restore reads them with the same rule
// (bundle::parse_repository).
void check_repositories(const char* key, const std::vector<std::string>& entries) {
  for (const auto& entry : entries) {
    const auto eq = entry.find('=');
    const std::string url =
        eq != std::string::npos && entry.substr(0, eq).find("://") == std::string::npos
            ? entry.substr(eq + 1)
            : entry;
    const bool name_ok =
        eq == std::string::npos || eq > 0 || entry.substr(0, eq).find("://") != std::string::npos;
    if (!name_ok || !(url.starts_with("http://") || url.starts_with("https://") ||
                      url.starts_with("file://"))) {
      fail(
          fmt::format("{}: \"{}\" must be Name=URL or a URL starting with http://, https:// "
                      "or file://",
                      key, entry));
    }
  }
}

void check_packages(const PackagesConfig& packages) {
  check_repositories("packages.repositories", packages.repositories);
  check_repositories("packages.override_repositories", packages.override_repositories);
  if (!packages.bioconductor_url.starts_with("http://") &&
      !packages.bioconductor_url.starts_with("https://") &&
      !packages.bioconductor_url.starts_with("file://")) {
    fail("packages.bioconductor_url must start with http://, https:// or file://");
  }
  check_positive("packages.build_timeout", packages.build_timeout);
  check_at_least("packages.max_concurrent_builds", packages.max_concurrent_builds, 1);
}

void check_proxy(const Config& config) {
  const ProxyConfig& proxy = config.proxy;
  check_at_least("proxy.max_workers", proxy.max_workers, 1);
  check_at_least("proxy.auth_rate_limit_per_minute", proxy.auth_rate_limit_per_minute, 1);
  check_at_least("proxy.api_rate_limit_per_minute", proxy.api_rate_limit_per_minute, 0);
  check_at_least("proxy.app_rate_limit_per_minute", proxy.app_rate_limit_per_minute, 0);
  check_at_least("proxy.max_concurrent_starts", proxy.max_concurrent_starts, 0);
  check_not_negative("proxy.ws_cache_ttl", proxy.ws_cache_ttl);
  check_positive("proxy.health_interval", proxy.health_interval);
  check_positive("proxy.worker_start_timeout", proxy.worker_start_timeout);
  check_not_negative("proxy.log_retention", proxy.log_retention);
  check_not_negative("proxy.session_idle_ttl", proxy.session_idle_ttl);
  check_not_negative("proxy.idle_worker_timeout", proxy.idle_worker_timeout);
  check_positive("proxy.session_commit_grace", proxy.session_commit_grace);
  check_at_least("proxy.max_uncommitted_workers", proxy.max_uncommitted_workers, 0);
  check_positive("proxy.http_forward_timeout", proxy.http_forward_timeout);
  check_positive("proxy.transfer_timeout", proxy.transfer_timeout);
  check_not_negative("proxy.session_max_lifetime", proxy.session_max_lifetime);

  const bool postgres = config.database.driver == "postgres";
  const std::string& store = proxy.session_store;
  if (!one_of(store, {"", "memory", "redis", "postgres", "layered"})) {
    fail(fmt::format(
        "proxy.session_store must be one of memory, redis, postgres, layered (or empty for "
        "auto), got \"{}\"",
        store));
  }
  if ((store == "redis" || store == "layered") && !config.redis) {
    fail(fmt::format("proxy.session_store = \"{}\" requires [redis]", store));
  }
  if ((store == "postgres" || store == "layered") && !postgres) {
    fail(
        fmt::format("proxy.session_store = \"{}\" requires database.driver = \"postgres\"", store));
  }
}

void check_update(const Config& config) {
  if (!config.update) return;
  const UpdateConfig& update = *config.update;
  if (!one_of(update.channel, {"stable", "main"})) {
    fail(fmt::format("update.channel must be \"stable\" or \"main\", got \"{}\"", update.channel));
  }
  check_positive("update.watch_period", update.watch_period);
  check_not_negative("update.drain_idle_wait", update.drain_idle_wait);
  const std::string& range = update.alt_bind_range;
  const auto dash = range.find('-');
  const std::string first = range.substr(0, dash);
  const std::string last = dash == std::string::npos ? "" : range.substr(dash + 1);
  if (!all_digits(first) || !all_digits(last) || std::stoi(first) < 1 || std::stoi(last) > 65535 ||
      std::stoi(first) > std::stoi(last)) {
    fail(fmt::format("update.alt_bind_range must be \"FIRST-LAST\" ports, got \"{}\"", range));
  }
}

// Creates `dir` (0755 for what it creates) and proves it writable by creating
// and removing a probe file.
void ensure_writable_dir(const std::string& key, const std::filesystem::path& dir) {
  std::error_code ec;
  const bool created = std::filesystem::create_directories(dir, ec);
  if (ec)
    fail(fmt::format("{}: cannot create directory \"{}\": {}", key, dir.string(), ec.message()));
  if (!std::filesystem::is_directory(dir, ec)) {
    fail(fmt::format("{}: \"{}\" is not a directory", key, dir.string()));
  }
  if (created) {
    std::filesystem::permissions(dir, std::filesystem::perms(0755),
                                 std::filesystem::perm_options::replace, ec);
  }
  std::string probe = (dir / ".blockyard-write-probe-XXXXXX").string();
  const int fd = mkstemp(probe.data());
  if (fd < 0) {
    fail(fmt::format("{}: directory \"{}\" is not writable: {}", key, dir.string(),
                     std::strerror(errno)));
  }
  close(fd);
  unlink(probe.c_str());
}

void check_database(const DatabaseConfig& db, bool touch_filesystem) {
  if (db.driver == "sqlite") {
    if (db.path.empty()) fail("database.path must not be empty for driver \"sqlite\"");
    if (db.path == ":memory:" || !touch_filesystem) return;
    std::filesystem::path parent = std::filesystem::path(db.path).parent_path();
    if (parent.empty()) parent = ".";
    ensure_writable_dir("database.path", parent);
  } else if (db.driver == "postgres") {
    if (db.url.empty()) fail("database.url is required for driver \"postgres\"");
  } else {
    fail(fmt::format("database.driver must be \"sqlite\" or \"postgres\", got \"{}\"", db.driver));
  }
}

}  // namespace

void validate_config(Config& config) {
  check_backend(config);
  check_oidc(config);
  check_vault(config);
  if (config.redis) {
    if (config.redis->url.empty()) fail("redis.url must not be empty");
    const std::string& url = config.redis->url;
    if (!url.starts_with("redis://") && !url.starts_with("rediss://") &&
        !url.starts_with("unix://")) {
      fail("redis.url must start with redis://, rediss:// or unix://");
    }
  }
  check_database_vault(config);
  if (config.audit && config.audit->path.empty()) fail("audit.path must not be empty");
  check_data_mounts(config.storage);
  for (const auto& [access, runtime] : config.docker.runtime_defaults) {
    if (!one_of(access, {"acl", "logged_in", "public"})) {
      fail(fmt::format("docker.runtime_defaults: key \"{}\" must be one of acl, logged_in, public",
                       access));
    }
  }
  check_server(config.server);
  if (!config.server.bootstrap_token.empty() &&
      (!config.oidc || config.oidc->initial_admin.empty())) {
    fail("server.bootstrap_token requires oidc.initial_admin");
  }
  check_port("docker.shiny_port", config.docker.shiny_port);
  check_storage(config.storage);
  check_packages(config.packages);
  check_database(config.database, false);
  check_proxy(config);
  check_update(config);

  // Filesystem last: nothing is created for a config that is wrong anyway.
  ensure_writable_dir("storage.bundle_server_path", config.storage.bundle_server_path);
  check_database(config.database, true);
}

}  // namespace blockyard::config_detail
