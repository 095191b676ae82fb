#include "preflight/preflight.h"

#include <spdlog/spdlog.h>

#include "preflight/checks.h"

namespace blockyard::preflight {

std::vector<Check> config_checks() {
  auto check = [](std::string name, CheckResult (*fn)(const CheckContext&)) {
    return Check{std::move(name), "config", false, fn};
  };
  return {check("no_oidc", check_no_oidc),
          check("wildcard_bind_no_oidc", check_wildcard_bind_no_oidc),
          check("external_url_not_https", check_external_url_not_https),
          check("vault_http", check_vault_http),
          check("vault_secret_id_file", check_vault_secret_id_file),
          check("management_bind_public", check_management_bind_public),
          check("no_audit_log", check_no_audit_log),
          check("trusted_proxies_too_broad", check_trusted_proxies_too_broad)};
}

std::vector<Check> backend_checks() {
  auto check = [](std::string name, CheckResult (*fn)(const CheckContext&),
                  std::string category = "process") {
    return Check{std::move(name), std::move(category), true, fn};
  };
  return {check("bwrap_available", check_bwrap_available),
          check("user_namespaces", check_user_namespaces),
          check("r_binary", check_r_binary),
          check("shiny_package", check_shiny_package),
          check("rig_versions", check_rig_versions),
          check("port_range", check_port_range),
          check("seccomp_profile", check_seccomp_profile),
          check("bwrap_host_uid_mapping", check_bwrap_host_uid_mapping),
          check("cloud_metadata", check_cloud_metadata),
          check("redis_auth", check_redis_auth, "redis"),
          check("cgroup_delegation", check_cgroup_delegation),
          check("worker_egress", check_worker_egress)};
}

bool blocks_startup(const Report& report) {
  return report.has_errors();
}

std::string startup_failure_message(const Report& report) {
  std::string text = "preflight failed";
  for (const auto& r : report.results) {
    if (r.severity == kError) text += "\n  " + r.name + ": " + r.message;
  }
  return text + "\n(set [server] skip_preflight = true to start anyway)";
}

void log_report(const Report& report) {
  for (const auto& r : report.results) {
    if (r.severity == kError) {
      spdlog::error("preflight: {} (check={})", r.message, r.name);
    } else if (r.severity == kWarning) {
      spdlog::warn("preflight: {} (check={})", r.message, r.name);
    } else if (r.severity == kInfo) {
      spdlog::info("preflight: {} (check={})", r.message, r.name);
    }
  }
  Summary s = report.summary();
  spdlog::info("preflight: {} error(s), {} warning(s), {} info, {} ok", s.errors, s.warnings,
               s.info, s.ok);
}

SystemChecks::SystemChecks(Config config, PreflightOptions options, bool backend_checks_enabled)
    : context_(std::make_shared<const CheckContext>(
          CheckContext{std::move(config), std::move(options)})),
      backend_enabled_(backend_checks_enabled) {}

Report SystemChecks::run_startup() {
  std::lock_guard run_lock(run_mutex_);
  Report report = run_checks(config_checks(), context_);
  std::vector<CheckResult> statics = report.results;
  if (backend_enabled_) {
    Report dynamic = run_checks(backend_checks(), context_);
    report.results.insert(report.results.end(), dynamic.results.begin(), dynamic.results.end());
  }
  Report sorted = report;
  sort_by_severity(sorted.results);
  std::lock_guard cache_lock(cache_mutex_);
  static_results_ = std::move(statics);
  latest_ = std::move(sorted);
  return report;
}

Report SystemChecks::rerun_dynamic() {
  std::lock_guard run_lock(run_mutex_);
  Report report;
  if (backend_enabled_) {
    report = run_checks(backend_checks(), context_);
  } else {
    report.ran_at = utc_now_rfc3339();
  }
  std::lock_guard cache_lock(cache_mutex_);
  report.results.insert(report.results.begin(), static_results_.begin(), static_results_.end());
  sort_by_severity(report.results);
  latest_ = report;
  return report;
}

Report SystemChecks::latest() const {
  std::lock_guard lock(cache_mutex_);
  return latest_;
}

}  // namespace blockyard::preflight
