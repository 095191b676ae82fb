// Server configuration: the original's TOML sections and keys, one struct per
// section, one field per key (same snake_case names). Durations are
// milliseconds. Optional sections are std::optional and exist when present in
// the TOML or when any BLOCKYARD_<SECTION>_ environment variable is set.
//
// load_config() applies, in order: embedded defaults, the TOML file, the
// BLOCKYARD_<SECTION>_<FIELD> environment overrides, then validation. Every
// failure throws ConfigError whose message names the offending key, e.g.
//   config: proxy.max_workers: expected an integer, got "lots"
#pragma once

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <map>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace blockyard {

using Duration = std::chrono::milliseconds;

class ConfigError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

struct ServerConfig {
  std::string bind = "127.0.0.1:8080";
  std::string management_bind;
  std::string backend = "process";  // the original defaults to docker; we ship process only
  bool skip_preflight = false;
  std::string default_memory_limit;
  double default_cpu_limit = 0;
  Duration shutdown_timeout = std::chrono::seconds(30);
  Duration drain_timeout = std::chrono::seconds(30);
  std::string log_level = "info";
  std::string session_secret;  // secret: never logged
  std::string external_url;
  std::vector<std::string> trusted_proxies;
  std::string bootstrap_token;  // secret
  std::map<std::string, std::string> worker_env;
  // Ours: where the local admin's token is written when no [oidc] is set.
  std::string admin_token_file = "data/admin-token";
};

struct DockerConfig {
  std::string socket = "/var/run/docker.sock";
  std::string image;
  int shiny_port = 3838;
  std::string pak_version = "stable";
  std::string service_network;
  std::string runtime;
  std::map<std::string, std::string> runtime_defaults;
};

struct ProcessConfig {
  std::string bwrap_path = "/usr/bin/bwrap";
  std::string r_path = "/usr/bin/R";
  std::string seccomp_profile;
  int port_range_start = 10000;
  int port_range_end = 10999;
  int worker_uid_range_start = 60000;
  int worker_uid_range_end = 60999;
  int worker_gid = 65534;
  bool skip_metadata_check = false;
  // What workers get at /proc: "fresh" (their own procfs) or "none" (an empty
  // directory; for containers whose /proc the runtime masks).
  std::string worker_procfs = "fresh";
};

struct DataMountConfig {
  std::string name;
  std::string path;
};

struct StorageConfig {
  std::string bundle_server_path = "data/bundles";
  std::string bundle_worker_path = "/app";
  int bundle_retention = 50;
  std::int64_t max_bundle_size = 104857600;
  Duration soft_delete_retention{0};
  Duration store_retention{0};
  std::vector<DataMountConfig> data_mounts;
};

// Ours: dependency restore (the original pins its installer in [docker]).
struct PackagesConfig {
  // Repositories ("Name=URL") used when an app names none.
  std::vector<std::string> repositories = {"CRAN=https://cloud.r-project.org"};
  // When set, replace every repository apps name (an airgapped mirror, an
  // internal package manager).
  std::vector<std::string> override_repositories;
  std::string bioconductor_url = "https://bioconductor.org";
  // Other R versions, rig's layout: <r_versions_path>/<version>/bin/R.
  std::string r_versions_path = "/opt/R";
  Duration build_timeout = std::chrono::minutes(30);
  int max_concurrent_builds = 2;
};

struct DatabaseConfig {
  std::string driver = "sqlite";
  std::string path = "data/blockyard.db";
  std::string url;
  std::string vault_mount = "database";
  std::string vault_role;
  std::string vault_db_connection;
  Duration vault_rotation_period = std::chrono::hours(24);
  bool board_storage = false;
};

struct ProxyConfig {
  Duration ws_cache_ttl = std::chrono::seconds(60);
  Duration health_interval = std::chrono::seconds(15);
  Duration worker_start_timeout = std::chrono::seconds(60);
  int max_workers = 100;
  Duration log_retention = std::chrono::hours(1);
  Duration session_idle_ttl{0};
  Duration idle_worker_timeout = std::chrono::minutes(5);
  // A session's worker without an open connection for this long is stopped:
  // one whose WebSocket never connected (curl, crawlers, link previews) and
  // one whose WebSocket closed (and whose resume window, ws_cache_ttl,
  // passed). Not in the original, which keeps both for idle_worker_timeout.
  Duration session_commit_grace = std::chrono::seconds(30);
  // Workers of sessions whose WebSocket never connected kept at once, once
  // their requests are over (the oldest beyond go); a new session also takes
  // the place of such a worker when the server or app is full. Not in the
  // original.
  int max_uncommitted_workers = 4;
  Duration http_forward_timeout = std::chrono::minutes(5);
  double max_cpu_limit = 16.0;
  Duration transfer_timeout = std::chrono::seconds(60);
  Duration session_max_lifetime{0};
  // Per client IP and minute (see http/rate_limiter.h for what counts).
  int auth_rate_limit_per_minute = 30;  // sign-ins
  // 0 = no limit (e.g. behind a limiting proxy, or for benchmarks). Not in
  // the original, whose values are fixed.
  int api_rate_limit_per_minute = 120;  // /api/v1/... (bootstrap, packages exempt)
  int app_rate_limit_per_minute = 60;   // new app sessions (a session's own requests never count)
  // R processes starting at the same time; more new sessions queue. 0 = one
  // per CPU core, at least 2. Not in the original (Docker has no such queue).
  int max_concurrent_starts = 0;
  std::string session_store;  // "" = auto
};

struct RedisConfig {
  std::string url;
  std::string key_prefix = "blockyard:";
};

struct UpdateConfig {
  std::string schedule;
  std::string channel = "stable";
  Duration watch_period = std::chrono::minutes(5);
  std::string repo;
  std::string alt_bind_range = "8090-8099";
  Duration drain_idle_wait = std::chrono::minutes(5);
};

struct OidcConfig {
  std::string issuer_url;
  std::string issuer_discovery_url;
  std::string client_id;
  std::string client_secret;  // secret
  Duration cookie_max_age = std::chrono::hours(24);
  std::string initial_admin;
  std::string default_role = "viewer";
  // Ours: the claim (ID token or userinfo) holding the user's IdP groups,
  // for grants to groups; "" = groups are not read.
  std::string groups_claim;
  // Ours: scopes requested besides openid profile email offline_access
  // (e.g. "groups" where the provider releases groups only under it).
  std::vector<std::string> extra_scopes;
};

struct VaultServiceConfig {
  std::string id;
  std::string label;
};

struct VaultConfig {
  std::string address;
  std::string role_id;
  std::string admin_token;  // secret
  Duration token_ttl = std::chrono::hours(1);
  std::string jwt_auth_path = "jwt";
  std::string secret_id_file;
  bool secret_id_wrapped = false;
  std::string ca_cert;
  bool skip_policy_scope_check = false;
  std::vector<VaultServiceConfig> services;
};

struct AuditConfig {
  std::string path;
};

struct TelemetryConfig {
  bool metrics_enabled = false;
  std::string otlp_endpoint;
};

struct Config {
  ServerConfig server;
  DockerConfig docker;
  std::optional<ProcessConfig> process;  // created by defaults when backend = process
  StorageConfig storage;
  PackagesConfig packages;
  DatabaseConfig database;
  ProxyConfig proxy;
  std::optional<RedisConfig> redis;
  std::optional<UpdateConfig> update;
  std::optional<OidcConfig> oidc;
  std::optional<VaultConfig> vault;
  std::optional<AuditConfig> audit;
  std::optional<TelemetryConfig> telemetry;

  // Non-fatal findings of load_config() (deprecated keys migrated, removed keys
  // ignored). Logging is not set up while the config loads, so the caller logs
  // these once it is.
  std::vector<std::string> warnings;
};

// The environment as name -> value; tests pass their own instead of environ.
using Environment = std::map<std::string, std::string>;
Environment current_environment();

// Loads the configuration. `path` empty = embedded defaults only (no file).
// Throws ConfigError naming the key on any unreadable file, unknown key, wrong
// type, unparseable environment override or failed validation rule.
//
// Environment: BLOCKYARD_<SECTION>_<KEY> for every key except
// [[vault.services]]; lists are "a,b", maps "k:v;k2:v2", data_mounts
// "name:/path;...". A set variable wins over the file even when empty.
// Variables that name no key are ignored, but any BLOCKYARD_<SECTION>_
// variable creates that optional section (BLOCKYARD_VAULT_SECRET_ID and
// BLOCKYARD_VAULT_SERVICES excepted), so a misspelt [oidc] variable fails
// validation instead of leaving the server unauthenticated.
// Side effect: validation creates storage.bundle_server_path and the SQLite
// database's directory (0755) and probes that they are writable. Relative
// paths stay relative to the working directory. Not thread-safe with respect
// to the working directory changing concurrently; otherwise reentrant.
Config load_config(const std::filesystem::path& path, const Environment& env);

// Parses a Go-style duration ("30s", "5m", "1h30m", "250ms", "0").
// Throws std::invalid_argument on anything else.
Duration parse_duration(std::string_view text);

// Formats a duration in Go syntax that parse_duration() reads back: "0s",
// "250ms", "30s", "1h30m", "1m0.5s" is written as "1m500ms".
std::string format_duration(Duration duration);

// Parses a memory size such as "512m", "2g", "1GiB", "1048576" (binary
// multiples: k = 1024). Throws std::invalid_argument on anything else,
// including zero and negative sizes.
std::int64_t parse_memory_size(std::string_view text);

// Renders the config as TOML-like text with secrets replaced by [REDACTED].
std::string describe_config(const Config& config);

}  // namespace blockyard
