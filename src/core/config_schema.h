// Internal to the config loader: the one table of sections and keys that the
// TOML reader, the environment overrides and describe_config() all walk, so a
// key added here is readable from TOML, overridable from the environment and
// rendered without further code.
#pragma once

#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>
#include <variant>
#include <vector>

#include "core/config.h"

namespace blockyard::config_detail {

using StringList = std::vector<std::string>;
using StringMap = std::map<std::string, std::string>;

// Pointer to the member that holds a key's value; the alternative fixes how
// the value is parsed and rendered.
template <class S>
using Member =
    std::variant<std::string S::*, bool S::*, int S::*, std::int64_t S::*, double S::*,
                 Duration S::*, StringList S::*, StringMap S::*, std::vector<DataMountConfig> S::*,
                 std::vector<VaultServiceConfig> S::*>;

template <class S>
struct Field {
  std::string_view key;
  Member<S> member;
  bool secret = false;   // rendered as [REDACTED]
  bool from_env = true;  // settable through BLOCKYARD_<SECTION>_<KEY>
};

template <class T>
struct is_optional : std::false_type {};
template <class T>
struct is_optional<std::optional<T>> : std::true_type {};

inline const std::vector<Field<ServerConfig>>& schema(const ServerConfig*) {
  using S = ServerConfig;
  static const std::vector<Field<S>> fields = {
      {"bind", &S::bind},
      {"management_bind", &S::management_bind},
      {"backend", &S::backend},
      {"skip_preflight", &S::skip_preflight},
      {"default_memory_limit", &S::default_memory_limit},
      {"default_cpu_limit", &S::default_cpu_limit},
      {"shutdown_timeout", &S::shutdown_timeout},
      {"drain_timeout", &S::drain_timeout},
      {"log_level", &S::log_level},
      {"session_secret", &S::session_secret, true},
      {"external_url", &S::external_url},
      {"trusted_proxies", &S::trusted_proxies},
      {"bootstrap_token", &S::bootstrap_token, true},
      {"worker_env", &S::worker_env},
      {"admin_token_file", &S::admin_token_file},
  };
  return fields;
}

inline const std::vector<Field<DockerConfig>>& schema(const DockerConfig*) {
  using S = DockerConfig;
  static const std::vector<Field<S>> fields = {
      {"socket", &S::socket},
      {"image", &S::image},
      {"shiny_port", &S::shiny_port},
      {"pak_version", &S::pak_version},
      {"service_network", &S::service_network},
      {"runtime", &S::runtime},
      {"runtime_defaults", &S::runtime_defaults},
  };
  return fields;
}

inline const std::vector<Field<ProcessConfig>>& schema(const ProcessConfig*) {
  using S = ProcessConfig;
  static const std::vector<Field<S>> fields = {
      {"bwrap_path", &S::bwrap_path},
      {"r_path", &S::r_path},
      {"seccomp_profile", &S::seccomp_profile},
      {"port_range_start", &S::port_range_start},
      {"port_range_end", &S::port_range_end},
      {"worker_uid_range_start", &S::worker_uid_range_start},
      {"worker_uid_range_end", &S::worker_uid_range_end},
      {"worker_gid", &S::worker_gid},
      {"skip_metadata_check", &S::skip_metadata_check},
      {"worker_procfs", &S::worker_procfs},
  };
  return fields;
}

inline const std::vector<Field<StorageConfig>>& schema(const StorageConfig*) {
  using S = StorageConfig;
  static const std::vector<Field<S>> fields = {
      {"bundle_server_path", &S::bundle_server_path},
      {"bundle_worker_path", &S::bundle_worker_path},
      {"bundle_retention", &S::bundle_retention},
      {"max_bundle_size", &S::max_bundle_size},
      {"soft_delete_retention", &S::soft_delete_retention},
      {"store_retention", &S::store_retention},
      {"data_mounts", &S::data_mounts},
  };
  return fields;
}

inline const std::vector<Field<PackagesConfig>>& schema(const PackagesConfig*) {
  using S = PackagesConfig;
  static const std::vector<Field<S>> fields = {
      {"repositories", &S::repositories},
      {"override_repositories", &S::override_repositories},
      {"bioconductor_url", &S::bioconductor_url},
      {"r_versions_path", &S::r_versions_path},
      {"build_timeout", &S::build_timeout},
      {"max_concurrent_builds", &S::max_concurrent_builds},
  };
  return fields;
}

inline const std::vector<Field<DatabaseConfig>>& schema(const DatabaseConfig*) {
  using S = DatabaseConfig;
  static const std::vector<Field<S>> fields = {
      {"driver", &S::driver},
      {"path", &S::path},
      {"url", &S::url},
      {"vault_mount", &S::vault_mount},
      {"vault_role", &S::vault_role},
      {"vault_db_connection", &S::vault_db_connection},
      {"vault_rotation_period", &S::vault_rotation_period},
      {"board_storage", &S::board_storage},
  };
  return fields;
}

inline const std::vector<Field<ProxyConfig>>& schema(const ProxyConfig*) {
  using S = ProxyConfig;
  static const std::vector<Field<S>> fields = {
      {"ws_cache_ttl", &S::ws_cache_ttl},
      {"health_interval", &S::health_interval},
      {"worker_start_timeout", &S::worker_start_timeout},
      {"max_workers", &S::max_workers},
      {"log_retention", &S::log_retention},
      {"session_idle_ttl", &S::session_idle_ttl},
      {"idle_worker_timeout", &S::idle_worker_timeout},
      {"session_commit_grace", &S::session_commit_grace},
      {"max_uncommitted_workers", &S::max_uncommitted_workers},
      {"http_forward_timeout", &S::http_forward_timeout},
      {"max_cpu_limit", &S::max_cpu_limit},
      {"transfer_timeout", &S::transfer_timeout},
      {"session_max_lifetime", &S::session_max_lifetime},
      {"auth_rate_limit_per_minute", &S::auth_rate_limit_per_minute},
      {"api_rate_limit_per_minute", &S::api_rate_limit_per_minute},
      {"app_rate_limit_per_minute", &S::app_rate_limit_per_minute},
      {"max_concurrent_starts", &S::max_concurrent_starts},
      {"session_store", &S::session_store},
  };
  return fields;
}

inline const std::vector<Field<RedisConfig>>& schema(const RedisConfig*) {
  using S = RedisConfig;
  static const std::vector<Field<S>> fields = {
      {"url", &S::url},
      {"key_prefix", &S::key_prefix},
  };
  return fields;
}

inline const std::vector<Field<UpdateConfig>>& schema(const UpdateConfig*) {
  using S = UpdateConfig;
  static const std::vector<Field<S>> fields = {
      {"schedule", &S::schedule},
      {"channel", &S::channel},
      {"watch_period", &S::watch_period},
      {"repo", &S::repo},
      {"alt_bind_range", &S::alt_bind_range},
      {"drain_idle_wait", &S::drain_idle_wait},
  };
  return fields;
}

inline const std::vector<Field<OidcConfig>>& schema(const OidcConfig*) {
  using S = OidcConfig;
  static const std::vector<Field<S>> fields = {
      {"issuer_url", &S::issuer_url},         {"issuer_discovery_url", &S::issuer_discovery_url},
      {"client_id", &S::client_id},           {"client_secret", &S::client_secret, true},
      {"cookie_max_age", &S::cookie_max_age}, {"initial_admin", &S::initial_admin},
      {"default_role", &S::default_role},     {"groups_claim", &S::groups_claim},
      {"extra_scopes", &S::extra_scopes},
  };
  return fields;
}

inline const std::vector<Field<VaultConfig>>& schema(const VaultConfig*) {
  using S = VaultConfig;
  static const std::vector<Field<S>> fields = {
      {"address", &S::address},
      {"role_id", &S::role_id},
      {"admin_token", &S::admin_token, true},
      {"token_ttl", &S::token_ttl},
      {"jwt_auth_path", &S::jwt_auth_path},
      {"secret_id_file", &S::secret_id_file},
      {"secret_id_wrapped", &S::secret_id_wrapped},
      {"ca_cert", &S::ca_cert},
      {"skip_policy_scope_check", &S::skip_policy_scope_check},
      // An array of tables has no sensible one-variable form.
      {"services", &S::services, false, false},
  };
  return fields;
}

inline const std::vector<Field<AuditConfig>>& schema(const AuditConfig*) {
  static const std::vector<Field<AuditConfig>> fields = {{"path", &AuditConfig::path}};
  return fields;
}

inline const std::vector<Field<TelemetryConfig>>& schema(const TelemetryConfig*) {
  using S = TelemetryConfig;
  static const std::vector<Field<S>> fields = {
      {"metrics_enabled", &S::metrics_enabled},
      {"otlp_endpoint", &S::otlp_endpoint},
  };
  return fields;
}

// Calls visit(name, section) for every section in file order; `section` is
// the struct itself or the std::optional holding it. Works on const Config.
template <class C, class Visitor>
void for_each_section(C& config, Visitor&& visit) {
  visit(std::string_view("server"), config.server);
  visit(std::string_view("docker"), config.docker);
  visit(std::string_view("process"), config.process);
  visit(std::string_view("storage"), config.storage);
  visit(std::string_view("packages"), config.packages);
  visit(std::string_view("database"), config.database);
  visit(std::string_view("proxy"), config.proxy);
  visit(std::string_view("redis"), config.redis);
  visit(std::string_view("update"), config.update);
  visit(std::string_view("oidc"), config.oidc);
  visit(std::string_view("vault"), config.vault);
  visit(std::string_view("audit"), config.audit);
  visit(std::string_view("telemetry"), config.telemetry);
}

// Reads the TOML file at `path` into `config` (which holds the defaults),
// migrating deprecated keys with a note in config.warnings. Throws ConfigError
// on an unreadable file, a syntax error, an unknown key or a wrong type.
void apply_toml_file(const std::filesystem::path& path, Config& config);

// Applies BLOCKYARD_<SECTION>_<KEY> overrides and creates optional sections
// named by any BLOCKYARD_<SECTION>_ variable. Throws ConfigError naming the
// variable when a value does not parse.
void apply_environment(const Environment& env, Config& config);

// Throws ConfigError naming the first key that breaks a rule. May create
// storage.bundle_server_path and the SQLite database's directory (that is part
// of checking they are writable).
void validate_config(Config& config);

}  // namespace blockyard::config_detail
