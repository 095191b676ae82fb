// The individual checks. Each returns exactly one result named after the
// check (the original's names), never throws for what it probes, and bounds
// every subprocess and socket it uses with its own deadline. Messages say what
// was found and, when it is not ok, what the operator should do.
#pragma once

#include "preflight/check_context.h"
#include "preflight/report.h"

namespace blockyard::preflight {

// --- process backend (category "process") ---
CheckResult check_bwrap_available(const CheckContext& context);  // bwrap_available
CheckResult check_user_namespaces(const CheckContext& context);  // user_namespaces
CheckResult check_r_binary(const CheckContext& context);         // r_binary
CheckResult check_rig_versions(const CheckContext& context);     // rig_versions
CheckResult check_shiny_package(const CheckContext& context);    // shiny_package
CheckResult check_port_range(const CheckContext& context);       // port_range
CheckResult check_seccomp_profile(const CheckContext& context);  // seccomp_profile
CheckResult check_bwrap_host_uid_mapping(const CheckContext& context);
CheckResult check_cgroup_delegation(const CheckContext& context);
CheckResult check_cloud_metadata(const CheckContext& context);
CheckResult check_worker_egress(const CheckContext& context);

// --- category "redis" ---
CheckResult check_redis_auth(const CheckContext& context);

// --- configuration only (category "config") ---
CheckResult check_no_oidc(const CheckContext& context);
CheckResult check_wildcard_bind_no_oidc(const CheckContext& context);
CheckResult check_external_url_not_https(const CheckContext& context);
CheckResult check_vault_http(const CheckContext& context);
CheckResult check_vault_secret_id_file(const CheckContext& context);
CheckResult check_management_bind_public(const CheckContext& context);
CheckResult check_no_audit_log(const CheckContext& context);
CheckResult check_trusted_proxies_too_broad(const CheckContext& context);

}  // namespace blockyard::preflight
