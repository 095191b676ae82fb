#include "core/config.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

namespace blockyard {
namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;
using namespace std::chrono_literals;

// Each test runs in a fresh temporary directory that is also the CWD, so the
// default relative paths (data/bundles, data/blockyard.db) land there.
class ConfigTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string pattern = (fs::temp_directory_path() / "by-config-test-XXXXXX").string();
    ASSERT_NE(mkdtemp(pattern.data()), nullptr);
    dir_ = pattern;
    old_cwd_ = fs::current_path();
    fs::current_path(dir_);
  }

  void TearDown() override {
    fs::current_path(old_cwd_);
    fs::remove_all(dir_);
  }

  fs::path write(const std::string& name, const std::string& text) {
    const fs::path path = dir_ / name;
    std::ofstream(path) << text;
    return path;
  }

  // The ConfigError message of loading `toml` with `env`, or "" if it loads.
  std::string error_of(const std::string& toml, const Environment& env = {}) {
    try {
      load_config(toml.empty() ? fs::path() : write("blockyard.toml", toml), env);
    } catch (const ConfigError& e) {
      return e.what();
    }
    return "";
  }

  fs::path dir_;
  fs::path old_cwd_;
};

TEST_F(ConfigTest, DefaultsWithoutFile) {
  const Config config = load_config({}, {});
  EXPECT_EQ(config.server.bind, "127.0.0.1:8080");
  EXPECT_EQ(config.server.backend, "process");
  EXPECT_EQ(config.server.log_level, "info");
  EXPECT_EQ(config.server.shutdown_timeout, 30s);
  EXPECT_EQ(config.server.admin_token_file, "data/admin-token");
  ASSERT_TRUE(config.process.has_value());
  EXPECT_EQ(config.process->bwrap_path, "/usr/bin/bwrap");
  EXPECT_EQ(config.process->port_range_start, 10000);
  EXPECT_EQ(config.process->worker_uid_range_end, 60999);
  EXPECT_EQ(config.storage.bundle_server_path, "data/bundles");
  EXPECT_EQ(config.storage.max_bundle_size, 104857600);
  EXPECT_EQ(config.database.driver, "sqlite");
  EXPECT_EQ(config.database.path, "data/blockyard.db");
  EXPECT_EQ(config.proxy.max_workers, 100);
  EXPECT_EQ(config.proxy.idle_worker_timeout, 5min);
  EXPECT_DOUBLE_EQ(config.proxy.max_cpu_limit, 16.0);
  EXPECT_FALSE(config.oidc || config.vault || config.redis || config.audit || config.telemetry ||
               config.update);
  EXPECT_TRUE(config.warnings.empty());
  // Validation created the bundle store relative to the CWD, mode 0755.
  ASSERT_TRUE(fs::is_directory(dir_ / "data/bundles"));
  EXPECT_EQ(fs::status(dir_ / "data/bundles").permissions() & fs::perms::all, fs::perms(0755));
  EXPECT_TRUE(fs::is_empty(dir_ / "data/bundles")) << "the write probe must be removed";
}

TEST_F(ConfigTest, FullFileWithEverySection) {
  const std::string bundles = (dir_ / "bundles").string();
  const std::string db = (dir_ / "db/by.db").string();
  const fs::path path = write("full.toml", R"(
[server]
bind = "0.0.0.0:9090"
management_bind = "127.0.0.1:9091"
backend = "process"
skip_preflight = true
default_memory_limit = "512m"
default_cpu_limit = 1.5
shutdown_timeout = "45s"
drain_timeout = "1m30s"
log_level = "debug"
session_secret = "s3cret-s3cret-s3cret-s3cret-s3cret"
external_url = "https://by.example.com"
trusted_proxies = ["10.0.0.0/8", "fd00::/8"]
bootstrap_token = "boot"
admin_token_file = "/var/lib/by/admin-token"
[server.worker_env]
TZ = "UTC"
LANG = "C.UTF-8"

[docker]
socket = "/run/podman.sock"
image = "worker:1"
shiny_port = 4000
pak_version = "rc"
service_network = "svc"
runtime = "runsc"
runtime_defaults = { public = "runsc", acl = "runc" }

[process]
bwrap_path = "/opt/bwrap"
r_path = "/opt/R/bin/R"
seccomp_profile = "/etc/blockyard/seccomp.bpf"
port_range_start = 20000
port_range_end = 20009
worker_uid_range_start = 70000
worker_uid_range_end = 70019
worker_gid = 1234
skip_metadata_check = true

[storage]
bundle_server_path = ")" + bundles + R"("
bundle_worker_path = "/srv/app"
bundle_retention = 5
max_bundle_size = 2048
soft_delete_retention = "720h"
store_retention = "24h"
[[storage.data_mounts]]
name = "shared"
path = "/srv/shared"
[[storage.data_mounts]]
name = "ref-data"
path = "/srv/ref"

[database]
driver = "sqlite"
path = ")" + db + R"("
vault_mount = "db"
vault_rotation_period = "12h"

[proxy]
ws_cache_ttl = "10s"
health_interval = "5s"
worker_start_timeout = "2m"
max_workers = 7
log_retention = "30m"
session_idle_ttl = "15m"
idle_worker_timeout = "10m"
http_forward_timeout = "90s"
max_cpu_limit = 4
transfer_timeout = "3m"
session_max_lifetime = "8h"
auth_rate_limit_per_minute = 25
api_rate_limit_per_minute = 0
app_rate_limit_per_minute = 500
max_concurrent_starts = 3
session_store = "redis"

[redis]
url = "redis://redis:6379/0"
key_prefix = "by"

[update]
schedule = "0 3 * * *"
channel = "main"
watch_period = "15m"
repo = "cynkra/blockyard"
alt_bind_range = "8100-8110"
drain_idle_wait = "2m"

[oidc]
issuer_url = "https://idp.example.com"
issuer_discovery_url = "http://idp:5556"
client_id = "blockyard"
client_secret = "client-secret"
cookie_max_age = "12h"
initial_admin = "admin-sub"
default_role = "publisher"

[vault]
address = "https://vault:8200"
role_id = "role"
token_ttl = "30m"
jwt_auth_path = "jwt-by"
secret_id_file = "/run/secrets/sid"
secret_id_wrapped = true
ca_cert = "/etc/ssl/vault.pem"
skip_policy_scope_check = true
[[vault.services]]
id = "openai"
label = "OpenAI"

[audit]
path = "/var/log/by/audit.jsonl"

[telemetry]
metrics_enabled = true
otlp_endpoint = "http://otel:4317"
)");
  const Config c = load_config(path, {});
  EXPECT_EQ(c.server.bind, "0.0.0.0:9090");
  EXPECT_EQ(c.server.management_bind, "127.0.0.1:9091");
  EXPECT_TRUE(c.server.skip_preflight);
  EXPECT_EQ(c.server.default_memory_limit, "512m");
  EXPECT_DOUBLE_EQ(c.server.default_cpu_limit, 1.5);
  EXPECT_EQ(c.server.shutdown_timeout, 45s);
  EXPECT_EQ(c.server.drain_timeout, 90s);
  EXPECT_EQ(c.server.log_level, "debug");
  EXPECT_EQ(c.server.session_secret, "s3cret-s3cret-s3cret-s3cret-s3cret");
  EXPECT_EQ(c.server.external_url, "https://by.example.com");
  EXPECT_EQ(c.server.trusted_proxies, (std::vector<std::string>{"10.0.0.0/8", "fd00::/8"}));
  EXPECT_EQ(c.server.bootstrap_token, "boot");
  EXPECT_EQ(c.server.admin_token_file, "/var/lib/by/admin-token");
  EXPECT_EQ(c.server.worker_env,
            (std::map<std::string, std::string>{{"LANG", "C.UTF-8"}, {"TZ", "UTC"}}));

  EXPECT_EQ(c.docker.socket, "/run/podman.sock");
  EXPECT_EQ(c.docker.image, "worker:1");
  EXPECT_EQ(c.docker.shiny_port, 4000);
  EXPECT_EQ(c.docker.pak_version, "rc");
  EXPECT_EQ(c.docker.service_network, "svc");
  EXPECT_EQ(c.docker.runtime, "runsc");
  EXPECT_EQ(c.docker.runtime_defaults.at("public"), "runsc");
  EXPECT_EQ(c.docker.runtime_defaults.at("acl"), "runc");

  ASSERT_TRUE(c.process);
  EXPECT_EQ(c.process->bwrap_path, "/opt/bwrap");
  EXPECT_EQ(c.process->r_path, "/opt/R/bin/R");
  EXPECT_EQ(c.process->seccomp_profile, "/etc/blockyard/seccomp.bpf");
  EXPECT_EQ(c.process->port_range_start, 20000);
  EXPECT_EQ(c.process->port_range_end, 20009);
  EXPECT_EQ(c.process->worker_uid_range_start, 70000);
  EXPECT_EQ(c.process->worker_uid_range_end, 70019);
  EXPECT_EQ(c.process->worker_gid, 1234);
  EXPECT_TRUE(c.process->skip_metadata_check);

  EXPECT_EQ(c.storage.bundle_server_path, bundles);
  EXPECT_EQ(c.storage.bundle_worker_path, "/srv/app");
  EXPECT_EQ(c.storage.bundle_retention, 5);
  EXPECT_EQ(c.storage.max_bundle_size, 2048);
  EXPECT_EQ(c.storage.soft_delete_retention, 720h);
  EXPECT_EQ(c.storage.store_retention, 24h);
  ASSERT_EQ(c.storage.data_mounts.size(), 2u);
  EXPECT_EQ(c.storage.data_mounts[1].name, "ref-data");
  EXPECT_EQ(c.storage.data_mounts[1].path, "/srv/ref");
  EXPECT_TRUE(fs::is_directory(bundles));

  EXPECT_EQ(c.database.path, db);
  EXPECT_TRUE(fs::is_directory(dir_ / "db"));
  EXPECT_EQ(c.database.vault_mount, "db");
  EXPECT_EQ(c.database.vault_rotation_period, 12h);

  EXPECT_EQ(c.proxy.ws_cache_ttl, 10s);
  EXPECT_EQ(c.proxy.health_interval, 5s);
  EXPECT_EQ(c.proxy.worker_start_timeout, 2min);
  EXPECT_EQ(c.proxy.max_workers, 7);
  EXPECT_EQ(c.proxy.log_retention, 30min);
  EXPECT_EQ(c.proxy.session_idle_ttl, 15min);
  EXPECT_EQ(c.proxy.idle_worker_timeout, 10min);
  EXPECT_EQ(c.proxy.http_forward_timeout, 90s);
  EXPECT_DOUBLE_EQ(c.proxy.max_cpu_limit, 4.0);
  EXPECT_EQ(c.proxy.transfer_timeout, 3min);
  EXPECT_EQ(c.proxy.session_max_lifetime, 8h);
  EXPECT_EQ(c.proxy.auth_rate_limit_per_minute, 25);
  EXPECT_EQ(c.proxy.api_rate_limit_per_minute, 0);
  EXPECT_EQ(c.proxy.app_rate_limit_per_minute, 500);
  EXPECT_EQ(c.proxy.max_concurrent_starts, 3);
  EXPECT_EQ(c.proxy.session_store, "redis");

  ASSERT_TRUE(c.redis);
  EXPECT_EQ(c.redis->url, "redis://redis:6379/0");
  EXPECT_EQ(c.redis->key_prefix, "by:") << "the separator is appended";

  ASSERT_TRUE(c.update);
  EXPECT_EQ(c.update->schedule, "0 3 * * *");
  EXPECT_EQ(c.update->channel, "main");
  EXPECT_EQ(c.update->watch_period, 15min);
  EXPECT_EQ(c.update->repo, "cynkra/blockyard");
  EXPECT_EQ(c.update->alt_bind_range, "8100-8110");
  EXPECT_EQ(c.update->drain_idle_wait, 2min);

  ASSERT_TRUE(c.oidc);
  EXPECT_EQ(c.oidc->issuer_url, "https://idp.example.com");
  EXPECT_EQ(c.oidc->issuer_discovery_url, "http://idp:5556");
  EXPECT_EQ(c.oidc->client_id, "blockyard");
  EXPECT_EQ(c.oidc->client_secret, "client-secret");
  EXPECT_EQ(c.oidc->cookie_max_age, 12h);
  EXPECT_EQ(c.oidc->initial_admin, "admin-sub");
  EXPECT_EQ(c.oidc->default_role, "publisher");

  ASSERT_TRUE(c.vault);
  EXPECT_EQ(c.vault->address, "https://vault:8200");
  EXPECT_EQ(c.vault->role_id, "role");
  EXPECT_EQ(c.vault->token_ttl, 30min);
  EXPECT_EQ(c.vault->jwt_auth_path, "jwt-by");
  EXPECT_EQ(c.vault->secret_id_file, "/run/secrets/sid");
  EXPECT_TRUE(c.vault->secret_id_wrapped);
  EXPECT_EQ(c.vault->ca_cert, "/etc/ssl/vault.pem");
  EXPECT_TRUE(c.vault->skip_policy_scope_check);
  ASSERT_EQ(c.vault->services.size(), 1u);
  EXPECT_EQ(c.vault->services[0].id, "openai");
  EXPECT_EQ(c.vault->services[0].label, "OpenAI");

  ASSERT_TRUE(c.audit);
  EXPECT_EQ(c.audit->path, "/var/log/by/audit.jsonl");
  ASSERT_TRUE(c.telemetry);
  EXPECT_TRUE(c.telemetry->metrics_enabled);
  EXPECT_EQ(c.telemetry->otlp_endpoint, "http://otel:4317");
}

TEST_F(ConfigTest, ExampleConfigLoadsAndMatchesDefaults) {
  // The shipped example documents every key at its default, so loading it
  // must equal loading nothing.
  const fs::path example = fs::path(BLOCKYARD_SOURCE_DIR) / "blockyard.example.toml";
  ASSERT_TRUE(fs::exists(example));
  EXPECT_EQ(describe_config(load_config(example, {})), describe_config(load_config({}, {})));
}

TEST_F(ConfigTest, EnvironmentOverridesEveryKind) {
  const fs::path path = write("c.toml", R"(
[proxy]
max_workers = 3
[server]
bind = "127.0.0.1:1234"
[process]
seccomp_profile = "/etc/blockyard/seccomp.bpf"
)");
  const Config c = load_config(
      path, {
                {"BLOCKYARD_PROXY_MAX_WORKERS", "42"},
                {"BLOCKYARD_SERVER_SKIP_PREFLIGHT", "T"},
                {"BLOCKYARD_PROCESS_SKIP_METADATA_CHECK", "1"},
                {"BLOCKYARD_PROXY_HEALTH_INTERVAL", "1h30m"},
                {"BLOCKYARD_PROXY_MAX_CPU_LIMIT", "2.5"},
                {"BLOCKYARD_STORAGE_MAX_BUNDLE_SIZE", "5000000000"},
                {"BLOCKYARD_SERVER_TRUSTED_PROXIES", " 10.0.0.0/8, ,192.168.0.0/16 ,"},
                {"BLOCKYARD_SERVER_WORKER_ENV", "TZ:UTC; URL:http://x:1/ ;"},
                {"BLOCKYARD_STORAGE_DATA_MOUNTS", "shared:/srv/shared;ref:/srv/ref"},
                {"BLOCKYARD_DOCKER_RUNTIME_DEFAULTS", "public:runsc"},
                {"BLOCKYARD_SERVER_BIND", "0.0.0.0:8081"},
                {"BLOCKYARD_PROCESS_SECCOMP_PROFILE", ""},  // "" is a value, it wins too
                {"BLOCKYARD_SERVER_MANAGEMENT_BIND", "127.0.0.1:9100"},
                {"BLOCKYARD_TELEMETRY_METRICS_ENABLED", "true"},
                {"BLOCKYARD_AUDIT_PATH", "/tmp/audit.jsonl"},
                {"BLOCKYARD_SERVER_NOT_A_KEY", "ignored"},
            });
  EXPECT_EQ(c.proxy.max_workers, 42) << "env wins over the TOML";
  EXPECT_EQ(c.server.bind, "0.0.0.0:8081");
  EXPECT_EQ(c.process->seccomp_profile, "");
  EXPECT_TRUE(c.server.skip_preflight);
  EXPECT_TRUE(c.process->skip_metadata_check);
  EXPECT_EQ(c.proxy.health_interval, 90min);
  EXPECT_DOUBLE_EQ(c.proxy.max_cpu_limit, 2.5);
  EXPECT_EQ(c.storage.max_bundle_size, 5000000000);
  EXPECT_EQ(c.server.trusted_proxies, (std::vector<std::string>{"10.0.0.0/8", "192.168.0.0/16"}));
  EXPECT_EQ(c.server.worker_env,
            (std::map<std::string, std::string>{{"TZ", "UTC"}, {"URL", "http://x:1/"}}));
  ASSERT_EQ(c.storage.data_mounts.size(), 2u);
  EXPECT_EQ(c.storage.data_mounts[0].name, "shared");
  EXPECT_EQ(c.storage.data_mounts[1].path, "/srv/ref");
  EXPECT_EQ(c.docker.runtime_defaults.at("public"), "runsc");
  EXPECT_EQ(c.server.management_bind, "127.0.0.1:9100");
  ASSERT_TRUE(c.telemetry);
  EXPECT_TRUE(c.telemetry->metrics_enabled);
  ASSERT_TRUE(c.audit);
  EXPECT_EQ(c.audit->path, "/tmp/audit.jsonl");
}

TEST_F(ConfigTest, EmptyBindFromEnvironmentIsRejected) {
  // The override applied (bind became ""), then validation named the key.
  EXPECT_THAT(error_of("", {{"BLOCKYARD_SERVER_BIND", ""}}), HasSubstr("server.bind"));
}

TEST_F(ConfigTest, EnvironmentCreatesOptionalSections) {
  const Config c = load_config({}, {
                                       {"BLOCKYARD_OIDC_ISSUER_URL", "https://idp"},
                                       {"BLOCKYARD_OIDC_CLIENT_ID", "id"},
                                       {"BLOCKYARD_OIDC_CLIENT_SECRET", "sec"},
                                       {"BLOCKYARD_SERVER_EXTERNAL_URL", "http://localhost:8080"},
                                       {"BLOCKYARD_SERVER_SESSION_SECRET", std::string(32, 'x')},
                                       {"BLOCKYARD_REDIS_URL", "redis://localhost:6379"},
                                       {"BLOCKYARD_UPDATE_SOMETHING_UNKNOWN", "1"},
                                   });
  ASSERT_TRUE(c.oidc);
  EXPECT_EQ(c.oidc->client_id, "id");
  EXPECT_EQ(c.oidc->default_role, "viewer") << "defaults of a created section apply";
  ASSERT_TRUE(c.redis);
  EXPECT_EQ(c.redis->key_prefix, "blockyard:");
  ASSERT_TRUE(c.update) << "any BLOCKYARD_UPDATE_ variable creates [update]";
  EXPECT_EQ(c.update->channel, "stable");
  EXPECT_FALSE(c.vault);
}

TEST_F(ConfigTest, VaultSecretIdAloneDoesNotCreateVault) {
  const Config c = load_config({}, {{"BLOCKYARD_VAULT_SECRET_ID", "abc"}});
  EXPECT_FALSE(c.vault);
}

TEST_F(ConfigTest, DeprecatedKeysAreMigratedWithWarning) {
  const Config c = load_config(write("old.toml", R"(
[server]
skip_docker_preflight = true
[docker]
default_memory_limit = "1g"
)"),
                               {});
  EXPECT_TRUE(c.server.skip_preflight);
  EXPECT_EQ(c.server.default_memory_limit, "1g");
  ASSERT_EQ(c.warnings.size(), 2u);
  EXPECT_THAT(c.warnings[1], HasSubstr("docker.default_memory_limit is deprecated"));
}

TEST_F(ConfigTest, OpenbaoSectionAndVariablesBecomeVault) {
  const std::string oidc = R"(
[server]
external_url = "https://by.example.com"
session_secret = "0123456789abcdef0123456789abcdef"
[oidc]
issuer_url = "https://idp"
client_id = "id"
client_secret = "secret"
[openbao]
address = "http://bao:8200"
token_file = "/old"
)";
  const Config c = load_config(write("bao.toml", oidc), {{"BLOCKYARD_OPENBAO_ROLE_ID", "r1"}});
  ASSERT_TRUE(c.vault);
  EXPECT_EQ(c.vault->address, "http://bao:8200");
  EXPECT_EQ(c.vault->role_id, "r1");
  EXPECT_EQ(c.warnings.size(), 3u) << "[openbao], vault.token_file, BLOCKYARD_OPENBAO_ROLE_ID";

  const Config both = load_config(write("bao.toml", oidc), {{"BLOCKYARD_OPENBAO_ROLE_ID", "old"},
                                                            {"BLOCKYARD_VAULT_ROLE_ID", "new"}});
  EXPECT_EQ(both.vault->role_id, "new") << "BLOCKYARD_VAULT_ wins over BLOCKYARD_OPENBAO_";
}

TEST_F(ConfigTest, InvalidConfigCreatesNoDirectories) {
  EXPECT_THAT(error_of("[proxy]\nmax_workers = 0\n"), HasSubstr("proxy.max_workers"));
  EXPECT_FALSE(fs::exists(dir_ / "data"));
}

TEST_F(ConfigTest, RateLimitsAndStartConcurrencyMustNotBeNegative) {
  const Config defaults = load_config(write("defaults.toml", ""), {});
  EXPECT_EQ(defaults.proxy.api_rate_limit_per_minute, 120);
  EXPECT_EQ(defaults.proxy.app_rate_limit_per_minute, 60);
  EXPECT_EQ(defaults.proxy.max_concurrent_starts, 0);
  EXPECT_THAT(error_of("[proxy]\napi_rate_limit_per_minute = -1\n"),
              HasSubstr("proxy.api_rate_limit_per_minute: must be at least 0"));
  EXPECT_THAT(error_of("[proxy]\napp_rate_limit_per_minute = -5\n"),
              HasSubstr("proxy.app_rate_limit_per_minute: must be at least 0"));
  EXPECT_THAT(error_of("[proxy]\nmax_concurrent_starts = -1\n"),
              HasSubstr("proxy.max_concurrent_starts: must be at least 0"));
}

TEST_F(ConfigTest, SessionCommitKeysHaveDefaultsAndAreValidated) {
  const Config defaults = load_config(write("defaults.toml", ""), {});
  EXPECT_EQ(defaults.proxy.session_commit_grace, 30s);
  EXPECT_EQ(defaults.proxy.max_uncommitted_workers, 4);
  const Config set = load_config(
      write("set.toml", "[proxy]\nsession_commit_grace = \"5s\"\nmax_uncommitted_workers = 0\n"),
      {{"BLOCKYARD_PROXY_MAX_UNCOMMITTED_WORKERS", "2"}});
  EXPECT_EQ(set.proxy.session_commit_grace, 5s);
  EXPECT_EQ(set.proxy.max_uncommitted_workers, 2) << "env wins over the TOML";
  EXPECT_THAT(error_of("[proxy]\nsession_commit_grace = \"0\"\n"),
              HasSubstr("config: proxy.session_commit_grace: must be greater than 0"));
  EXPECT_THAT(error_of("[proxy]\nsession_commit_grace = \"soon\"\n"),
              HasSubstr("config: proxy.session_commit_grace: invalid duration \"soon\""));
  EXPECT_THAT(error_of("[proxy]\nmax_uncommitted_workers = -1\n"),
              HasSubstr("config: proxy.max_uncommitted_workers: must be at least 0"));
  EXPECT_THAT(error_of("[proxy]\nmax_uncommitted_workers = \"few\"\n"),
              HasSubstr("config: proxy.max_uncommitted_workers: expected an integer"));
}

TEST_F(ConfigTest, PackagesSectionDefaultsAndValidation) {
  const Config defaults = load_config(write("defaults.toml", ""), {});
  EXPECT_EQ(defaults.packages.repositories,
            std::vector<std::string>{"CRAN=https://cloud.r-project.org"});
  EXPECT_TRUE(defaults.packages.override_repositories.empty());
  EXPECT_EQ(defaults.packages.r_versions_path, "/opt/R");
  EXPECT_EQ(defaults.packages.build_timeout, std::chrono::minutes(30));
  const Config set =
      load_config(write("p.toml", R"([packages]
repositories = ["local=http://127.0.0.1:9/", "https://mirror.example/cran"]
build_timeout = "5m"
)"),
                  {{"BLOCKYARD_PACKAGES_OVERRIDE_REPOSITORIES", "Mirror=file:///srv/cran"}});
  EXPECT_EQ(set.packages.repositories.size(), 2u);
  EXPECT_EQ(set.packages.override_repositories,
            std::vector<std::string>{"Mirror=file:///srv/cran"});
  EXPECT_EQ(set.packages.build_timeout, std::chrono::minutes(5));
  EXPECT_THAT(error_of("[packages]\nrepositories = [\"CRAN=ftp://x\"]\n"),
              HasSubstr("packages.repositories: \"CRAN=ftp://x\" must be Name=URL"));
  EXPECT_THAT(error_of("[packages]\noverride_repositories = [\"=http://x\"]\n"),
              HasSubstr("packages.override_repositories"));
  EXPECT_THAT(error_of("[packages]\nmax_concurrent_builds = 0\n"),
              HasSubstr("packages.max_concurrent_builds: must be at least 1"));
  EXPECT_THAT(error_of("[packages]\nbuild_timeout = \"0s\"\n"),
              HasSubstr("packages.build_timeout"));
  EXPECT_THAT(error_of("[packages]\nbioconductor_url = \"bioconductor.org\"\n"),
              HasSubstr("packages.bioconductor_url"));
}

TEST_F(ConfigTest, UnknownKeyIsAnError) {
  EXPECT_EQ(error_of("[server]\nbnid = \"x\"\n"), "config: unknown key server.bnid (line 2)");
  EXPECT_THAT(error_of("[bogus]\na = 1\n"), HasSubstr("config: unknown section [bogus]"));
  EXPECT_THAT(error_of("bind = \"x\"\n"), HasSubstr("config: unknown key bind"));
  EXPECT_THAT(error_of("[[storage.data_mounts]]\nname = \"a\"\npath = \"/a\"\nmode = \"ro\"\n"),
              HasSubstr("config: unknown key storage.data_mounts[0].mode"));
}

TEST_F(ConfigTest, WrongTypeNamesKeyAndExpectedType) {
  EXPECT_THAT(error_of("[proxy]\nmax_workers = \"lots\"\n"),
              HasSubstr("config: proxy.max_workers: expected an integer, got a string"));
  EXPECT_THAT(error_of("[server]\nskip_preflight = \"yes\"\n"),
              HasSubstr("config: server.skip_preflight: expected a boolean"));
  EXPECT_THAT(error_of("[proxy]\nhealth_interval = 15\n"),
              HasSubstr("config: proxy.health_interval: expected a duration string"));
  EXPECT_THAT(error_of("[server]\ntrusted_proxies = [\"10.0.0.0/8\", 7]\n"),
              HasSubstr("config: server.trusted_proxies[1]: expected a string"));
  EXPECT_THAT(error_of("server = 1\n"), HasSubstr("config: server: expected a table"));
  EXPECT_THAT(error_of("[proxy]\nmax_workers = 99999999999\n"),
              HasSubstr("config: proxy.max_workers: 99999999999 is out of range"));
}

TEST_F(ConfigTest, BadDurationNamesKey) {
  EXPECT_THAT(error_of("[proxy]\nidle_worker_timeout = \"5 minutes\"\n"),
              HasSubstr("config: proxy.idle_worker_timeout: invalid duration \"5 minutes\""));
  EXPECT_THAT(error_of("[oidc]\ncookie_max_age = \"1d\"\n"),
              HasSubstr("config: oidc.cookie_max_age: invalid duration \"1d\""));
}

TEST_F(ConfigTest, FileErrors) {
  EXPECT_THAT(error_of("[server\nbind = 1\n"), HasSubstr("line 1"));
  try {
    load_config(dir_ / "missing.toml", {});
    FAIL() << "expected ConfigError";
  } catch (const ConfigError& e) {
    EXPECT_EQ(std::string(e.what()), "config: read config file \"" +
                                         (dir_ / "missing.toml").string() +
                                         "\": No such file or directory");
  }
}

TEST_F(ConfigTest, BadEnvironmentOverrideNamesVariable) {
  EXPECT_EQ(error_of("", {{"BLOCKYARD_PROXY_MAX_WORKERS", "lots"}}),
            "config: BLOCKYARD_PROXY_MAX_WORKERS: expected an integer, got \"lots\"");
  EXPECT_THAT(error_of("", {{"BLOCKYARD_PROXY_MAX_WORKERS", "12abc"}}),
              HasSubstr("BLOCKYARD_PROXY_MAX_WORKERS: expected an integer"));
  EXPECT_THAT(error_of("", {{"BLOCKYARD_SERVER_SKIP_PREFLIGHT", "yes"}}),
              HasSubstr("config: BLOCKYARD_SERVER_SKIP_PREFLIGHT: expected a boolean"));
  EXPECT_THAT(error_of("", {{"BLOCKYARD_PROXY_WS_CACHE_TTL", "60"}}),
              HasSubstr("config: BLOCKYARD_PROXY_WS_CACHE_TTL: expected a duration"));
  EXPECT_THAT(error_of("", {{"BLOCKYARD_PROXY_MAX_CPU_LIMIT", "four"}}),
              HasSubstr("config: BLOCKYARD_PROXY_MAX_CPU_LIMIT: expected a number"));
  EXPECT_THAT(error_of("", {{"BLOCKYARD_SERVER_WORKER_ENV", "A=b"}}),
              HasSubstr("config: BLOCKYARD_SERVER_WORKER_ENV: expected key:value pairs"));
  EXPECT_THAT(error_of("", {{"BLOCKYARD_PROCESS_PORT_RANGE_END", "99999999999"}}),
              HasSubstr("BLOCKYARD_PROCESS_PORT_RANGE_END: expected an integer in range"));
}

TEST_F(ConfigTest, OutOfRangeValuesNameTheKey) {
  EXPECT_THAT(error_of("[proxy]\nmax_workers = -1\n"), HasSubstr("config: proxy.max_workers"));
  EXPECT_THAT(error_of("[process]\nport_range_start = 0\n"),
              HasSubstr("config: process.port_range_start: must be from 1 to 65535"));
  EXPECT_THAT(error_of("[process]\nport_range_end = 70000\n"),
              HasSubstr("config: process.port_range_end: must be from 1 to 65535"));
  EXPECT_THAT(error_of("[storage]\nmax_bundle_size = 0\n"),
              HasSubstr("config: storage.max_bundle_size"));
  EXPECT_THAT(error_of("[server]\nshutdown_timeout = \"-5s\"\n"),
              HasSubstr("config: server.shutdown_timeout: must not be negative"));
  EXPECT_THAT(error_of("[process]\nworker_uid_range_end = 60010\n"),
              HasSubstr("got 11 UIDs vs 1000 ports"));
  EXPECT_THAT(error_of("[server]\nbind = \"localhost\"\n"), HasSubstr("config: server.bind"));
  EXPECT_THAT(error_of("[server]\nbind = \"127.0.0.1:65536\"\n"), HasSubstr("config: server.bind"));
  EXPECT_THAT(error_of("[server]\ndefault_memory_limit = \"lots\"\n"),
              HasSubstr("config: server.default_memory_limit"));
  EXPECT_EQ(error_of("[server]\nbind = \"[::1]:8080\"\n"), "");
}

TEST_F(ConfigTest, OnlyProcessBackend) {
  EXPECT_THAT(error_of("[server]\nbackend = \"docker\"\n"),
              HasSubstr("config: server.backend: only \"process\" is supported"));
}

TEST_F(ConfigTest, TrustedProxiesMustBeCidrs) {
  EXPECT_EQ(error_of("[server]\ntrusted_proxies = [\"10.0.0.0/8\", \"2001:db8::/32\"]\n"), "");
  EXPECT_THAT(error_of("[server]\ntrusted_proxies = [\"10.0.0.1\"]\n"),
              HasSubstr("config: server.trusted_proxies: invalid CIDR \"10.0.0.1\""));
  EXPECT_THAT(error_of("", {{"BLOCKYARD_SERVER_TRUSTED_PROXIES", "10.0.0.0/33"}}),
              HasSubstr("invalid CIDR \"10.0.0.0/33\""));
  EXPECT_THAT(error_of("", {{"BLOCKYARD_SERVER_TRUSTED_PROXIES", "::1/129"}}),
              HasSubstr("invalid CIDR"));
}

TEST_F(ConfigTest, UnknownLogLevelIsAnError) {
  EXPECT_THAT(error_of("[server]\nlog_level = \"verbose\"\n"),
              HasSubstr("config: server.log_level must be one of"));
  EXPECT_EQ(error_of("[server]\nlog_level = \"warning\"\n"), "");
}

TEST_F(ConfigTest, UnwritableBundlePathIsAnError) {
  // Root ignores permission bits, so make the parent a regular file instead.
  write("plain-file", "x");
  const std::string bundles = (dir_ / "plain-file" / "bundles").string();
  EXPECT_THAT(error_of("", {{"BLOCKYARD_STORAGE_BUNDLE_SERVER_PATH", bundles}}),
              HasSubstr("config: storage.bundle_server_path: cannot create directory"));
  const std::string db = (dir_ / "plain-file" / "db" / "by.db").string();
  EXPECT_THAT(error_of("", {{"BLOCKYARD_DATABASE_PATH", db}}), HasSubstr("config: database.path"));
}

TEST_F(ConfigTest, SectionRules) {
  EXPECT_THAT(error_of("[oidc]\nissuer_url = \"https://idp\"\n"),
              HasSubstr("config: server.external_url is required"));
  EXPECT_THAT(error_of("[redis]\n"), HasSubstr("config: redis.url must not be empty"));
  EXPECT_THAT(error_of("[audit]\n"), HasSubstr("config: audit.path must not be empty"));
  EXPECT_THAT(error_of("[[storage.data_mounts]]\nname = \"a b\"\npath = \"/x\"\n"),
              HasSubstr("config: storage.data_mounts: name \"a b\""));
  EXPECT_THAT(error_of("[[storage.data_mounts]]\nname = \"a\"\npath = \"rel\"\n"),
              HasSubstr("must be absolute"));
  EXPECT_THAT(error_of("[database]\ndriver = \"postgres\"\n"),
              HasSubstr("config: database.url is required"));
  EXPECT_THAT(error_of("[proxy]\nsession_store = \"redis\"\n"),
              HasSubstr("config: proxy.session_store = \"redis\" requires [redis]"));
  EXPECT_THAT(error_of("[docker.runtime_defaults]\nprivate = \"runc\"\n"),
              HasSubstr("config: docker.runtime_defaults"));
  EXPECT_THAT(error_of("[server]\nbootstrap_token = \"t\"\n"),
              HasSubstr("config: server.bootstrap_token requires oidc.initial_admin"));
  const std::string oidc =
      "[oidc]\nissuer_url = \"https://idp\"\nclient_id = \"c\"\nclient_secret = \"s\"\n"
      "[server]\nexternal_url = \"https://by\"\n";
  EXPECT_THAT(error_of(oidc), HasSubstr("config: server.session_secret is required"));
  EXPECT_THAT(error_of(oidc + "session_secret = \"short\"\n"),
              HasSubstr("config: server.session_secret must be at least 32 characters"));
  EXPECT_THAT(error_of("[oidc]\nissuer_url = \"https://idp\"\nclient_id = \"c\"\n"
                       "client_secret = \"s\"\nextra_scopes = [\"a b\"]\n[server]\n"
                       "external_url = \"https://by\"\nsession_secret = \"" +
                       std::string(32, 'k') + "\"\n"),
              HasSubstr("config: oidc.extra_scopes: invalid scope \"a b\""));
}

TEST_F(ConfigTest, DescribeRedactsSecrets) {
  Config config = load_config({}, {});
  config.server.session_secret = "session-plaintext";
  config.server.bootstrap_token = "bootstrap-plaintext";
  config.oidc.emplace().client_secret = "oidc-plaintext";
  config.vault.emplace().admin_token = "vault-plaintext";
  config.database.url = "postgres://by:pg-plaintext@db:5432/by";
  const std::string text = describe_config(config);
  for (const char* secret : {"session-plaintext", "bootstrap-plaintext", "oidc-plaintext",
                             "vault-plaintext", "pg-plaintext"}) {
    EXPECT_THAT(text, ::testing::Not(HasSubstr(secret)));
  }
  EXPECT_THAT(text, HasSubstr("session_secret = \"[REDACTED]\""));
  EXPECT_THAT(text, HasSubstr("client_secret = \"[REDACTED]\""));
  EXPECT_THAT(text, HasSubstr("admin_token = \"[REDACTED]\""));
  EXPECT_THAT(text, HasSubstr("url = \"postgres://by:[REDACTED]@db:5432/by\""));
  EXPECT_THAT(text, HasSubstr("[oidc]"));
  EXPECT_THAT(text, ::testing::Not(HasSubstr("[redis]"))) << "absent sections are omitted";
}

TEST_F(ConfigTest, DescribeReadsBackAsTheSameConfig) {
  const Config original = load_config({}, {{"BLOCKYARD_SERVER_WORKER_ENV", "A:1;B:two words"},
                                           {"BLOCKYARD_STORAGE_DATA_MOUNTS", "d:/srv/d"},
                                           {"BLOCKYARD_PROXY_HEALTH_INTERVAL", "1h2m3s4ms"},
                                           {"BLOCKYARD_SERVER_DEFAULT_CPU_LIMIT", "2"},
                                           {"BLOCKYARD_TELEMETRY_OTLP_ENDPOINT", "http://o:4317"}});
  const std::string text = describe_config(original);
  const Config reread = load_config(write("described.toml", text), {});
  EXPECT_EQ(describe_config(reread), text);
  EXPECT_EQ(reread.proxy.health_interval, 1h + 2min + 3s + 4ms);
}

TEST(ParseDuration, GoSyntax) {
  EXPECT_EQ(parse_duration("0"), Duration{0});
  EXPECT_EQ(parse_duration("30s"), 30s);
  EXPECT_EQ(parse_duration("5m"), 5min);
  EXPECT_EQ(parse_duration("1h30m"), 90min);
  EXPECT_EQ(parse_duration("250ms"), 250ms);
  EXPECT_EQ(parse_duration("1.5s"), 1500ms);
  EXPECT_EQ(parse_duration(".5m"), 30s);
  EXPECT_EQ(parse_duration("720h"), 720h);
  EXPECT_EQ(parse_duration("-2s"), -2s);
  EXPECT_EQ(parse_duration("1500us"), 1ms);
  EXPECT_EQ(parse_duration("100ns"), 1ms) << "non-zero sub-millisecond rounds up";
  for (const char* bad :
       {"", "1d", "5", "s", "1.s.", "5 m", "1h 30m", "+", "abc", ".s", "9999999999999h"}) {
    EXPECT_THROW(parse_duration(bad), std::invalid_argument) << bad;
  }
}

TEST(FormatDuration, RoundTrips) {
  EXPECT_EQ(format_duration(Duration{0}), "0s");
  EXPECT_EQ(format_duration(90min), "1h30m");
  EXPECT_EQ(format_duration(1500ms), "1s500ms");
  EXPECT_EQ(format_duration(-30s), "-30s");
  for (Duration d : {Duration{1}, Duration{61001}, Duration{86400000}}) {
    EXPECT_EQ(parse_duration(format_duration(d)), d);
  }
}

TEST(ParseMemorySize, Units) {
  EXPECT_EQ(parse_memory_size("1048576"), 1048576);
  EXPECT_EQ(parse_memory_size("512m"), 512LL << 20);
  EXPECT_EQ(parse_memory_size("2G"), 2LL << 30);
  EXPECT_EQ(parse_memory_size("1GiB"), 1LL << 30);
  EXPECT_EQ(parse_memory_size("64kb"), 64LL << 10);
  for (const char* bad : {"", "0", "-1g", "1x", "g", "1.5g", "99999999999t"}) {
    EXPECT_THROW(parse_memory_size(bad), std::invalid_argument) << bad;
  }
}

}  // namespace
}  // namespace blockyard
