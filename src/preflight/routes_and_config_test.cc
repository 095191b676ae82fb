// The admin endpoints over a real SQLite store, and the config-only checks.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <fstream>
#include <nlohmann/json.hpp>

#include "auth/pat.h"
#include "preflight/checks.h"
#include "preflight/preflight_routes.h"
#include "preflight/test_support.h"
#include "store/test_temp_dir.h"

namespace blockyard::preflight {
namespace {

using blockyard::testing::TempDir;
using testing::context_for;
using ::testing::HasSubstr;

class SystemCheckRoutes : public ::testing::Test {
 protected:
  void SetUp() override {
    store_ = store::open_sqlite_store(dir_.path() / "by.db");
    for (auto [sub, role] : {std::pair{"root", "admin"}, std::pair{"bob", "viewer"}}) {
      store::User user;
      user.sub = sub;
      user.role = role;
      store_->upsert_user(user);
    }
    admin_token_ = auth::issue_pat(*store_, "root", "t", std::nullopt);
    viewer_token_ = auth::issue_pat(*store_, "bob", "t", std::nullopt);
    Config config;
    config.process = ProcessConfig{};
    config.process->seccomp_profile = "/nonexistent/seccomp.bpf";  // one error to see
    checks_ = std::make_unique<SystemChecks>(config, PreflightOptions{}, true);
    register_system_check_routes(router_, *store_, *checks_);
  }

  http::Response call(const std::string& method, const std::string& path,
                      const std::string& token) {
    http::Request request;
    request.method = method;
    request.path = request.target = path;
    if (!token.empty()) request.headers.add("Authorization", "Bearer " + token);
    return router_.dispatch(request);
  }

  TempDir dir_;
  std::unique_ptr<store::Store> store_;
  std::unique_ptr<SystemChecks> checks_;
  http::Router router_;
  std::string admin_token_, viewer_token_;
};

TEST_F(SystemCheckRoutes, RequireAnAdmin) {
  EXPECT_EQ(call("GET", "/api/v1/system/checks", "").status, 401);
  EXPECT_EQ(call("GET", "/api/v1/system/checks", "by_wrong").status, 401);
  EXPECT_EQ(call("GET", "/api/v1/system/checks", viewer_token_).status, 403);
  EXPECT_EQ(call("POST", "/api/v1/system/checks/run", viewer_token_).status, 403);
  EXPECT_EQ(call("GET", "/api/v1/admin/system-checks", viewer_token_).status, 403);
}

TEST_F(SystemCheckRoutes, EmptyReportBeforeAnyRunThenTheStartupReport) {
  auto before = call("GET", "/api/v1/system/checks", admin_token_);
  ASSERT_EQ(before.status, 200);
  auto empty = nlohmann::json::parse(before.body);
  EXPECT_EQ(empty["ran_at"], "");
  EXPECT_TRUE(empty["results"].empty());
  EXPECT_EQ(before.headers.get("Cache-Control"), "no-store");

  checks_->run_startup();
  for (auto path : {"/api/v1/system/checks", "/api/v1/admin/system-checks"}) {
    auto response = call("GET", path, admin_token_);
    ASSERT_EQ(response.status, 200) << path;
    auto report = nlohmann::json::parse(response.body);
    EXPECT_FALSE(report["ran_at"].get<std::string>().empty());
    EXPECT_EQ(report["summary"]["errors"], 1);
    // Sorted: the error first.
    EXPECT_EQ(report["results"][0]["name"], "seccomp_profile");
    EXPECT_EQ(report["results"][0]["severity"], "error");
  }
}

TEST_F(SystemCheckRoutes, RunMergesStaticConfigResultsWithFreshDynamicOnes) {
  checks_->run_startup();
  auto first = nlohmann::json::parse(call("GET", "/api/v1/system/checks", admin_token_).body);
  auto response = call("POST", "/api/v1/system/checks/run", admin_token_);
  ASSERT_EQ(response.status, 200);
  auto rerun = nlohmann::json::parse(response.body);
  EXPECT_EQ(rerun["results"].size(), first["results"].size());
  bool has_config = false, has_worker_egress = false;
  for (const auto& r : rerun["results"]) {
    has_config |= r["category"] == "config";
    has_worker_egress |= r["name"] == "worker_egress";
  }
  EXPECT_TRUE(has_config);
  EXPECT_TRUE(has_worker_egress);
  EXPECT_EQ(nlohmann::json::parse(call("GET", "/api/v1/system/checks", admin_token_).body), rerun);
}

TEST(ConfigChecks, WildcardBindWithoutOidcWarns) {
  Config config;
  config.server.bind = "0.0.0.0:8080";
  EXPECT_EQ(check_wildcard_bind_no_oidc(context_for(config)).severity, "warning");
  config.server.bind = "127.0.0.1:8080";
  EXPECT_EQ(check_wildcard_bind_no_oidc(context_for(config)).severity, "ok");
  config.server.bind = "0.0.0.0:8080";
  config.oidc = OidcConfig{};
  EXPECT_EQ(check_wildcard_bind_no_oidc(context_for(config)).severity, "ok");
}

TEST(ConfigChecks, NoOidcIsInfoNamingTheTokenFile) {
  auto r = check_no_oidc(context_for(Config{}));
  EXPECT_EQ(r.severity, "info");
  EXPECT_THAT(r.message, HasSubstr("data/admin-token"));
}

TEST(ConfigChecks, ExternalUrlMustBeHttpsUnlessLoopback) {
  Config config;
  config.server.external_url = "http://apps.example.org";
  EXPECT_EQ(check_external_url_not_https(context_for(config)).severity, "warning");
  config.server.external_url = "https://apps.example.org";
  EXPECT_EQ(check_external_url_not_https(context_for(config)).severity, "ok");
  config.server.external_url = "http://127.0.0.1:8080";
  EXPECT_EQ(check_external_url_not_https(context_for(config)).severity, "ok");
}

TEST(ConfigChecks, VaultSecretIdFileMustBePrivate) {
  TempDir dir;
  auto file = dir.path() / "secret-id";
  std::ofstream(file) << "x";
  Config config;
  config.vault = VaultConfig{};
  config.vault->secret_id_file = file;
  ::chmod(file.c_str(), 0644);
  auto r = check_vault_secret_id_file(context_for(config));
  EXPECT_EQ(r.severity, "error");
  EXPECT_THAT(r.message, HasSubstr("chmod 600"));
  ::chmod(file.c_str(), 0600);
  EXPECT_EQ(check_vault_secret_id_file(context_for(config)).severity, "ok");
}

TEST(ConfigChecks, BroadTrustedProxiesWarn) {
  Config config;
  config.server.trusted_proxies = {"10.0.0.0/8", "192.168.1.1/32"};
  EXPECT_EQ(check_trusted_proxies_too_broad(context_for(config)).severity, "ok");
  config.server.trusted_proxies.push_back("0.0.0.0/0");
  auto r = check_trusted_proxies_too_broad(context_for(config));
  EXPECT_EQ(r.severity, "warning");
  EXPECT_THAT(r.message, HasSubstr("0.0.0.0/0"));
}

TEST(ConfigChecks, PublicManagementBindWarns) {
  Config config;
  config.server.management_bind = "0.0.0.0:9100";
  EXPECT_EQ(check_management_bind_public(context_for(config)).severity, "warning");
  config.server.management_bind = "127.0.0.1:9100";
  EXPECT_EQ(check_management_bind_public(context_for(config)).severity, "ok");
}

}  // namespace
}  // namespace blockyard::preflight
