// worker_egress: can a worker reach the services blockyard depends on? Each
// target is probed by running `blockyard probe --tcp` inside a worker-shaped
// sandbox, as the workers' identity.
#include "preflight/checks.h"
#include "preflight/registry.h"
#include "preflight/sandbox_probe.h"
#include "preflight/service_targets.h"

namespace blockyard::preflight {

namespace {

using namespace std::chrono_literals;

// Fail-safe for the warning, not for security: a probe that cannot start
// counts as "not reachable".
bool sandboxed_probe(const CheckContext& context, const EgressTarget& target) {
  auto bwrap = find_executable(context.process().bwrap_path);
  if (!bwrap) return false;
  auto identity = context.worker_identity();
  // The probe binary is bound in under the sandbox's private /tmp: where it
  // lives on the host (a build tree under /tmp, say) may be hidden inside.
  const std::string inside = "/tmp/blockyard-probe";
  auto argv = probe_sandbox_argv(*bwrap, identity, context.worker_proc(),
                                 {"--ro-bind", context.probe_executable().string(), inside},
                                 {inside, "probe", "--tcp", target.address(), "--timeout", "2s"});
  auto run = run_command({.argv = argv, .identity = identity}, 10s);
  return run.succeeded();
}

}  // namespace

CheckResult check_worker_egress(const CheckContext& context) {
  const std::string name = "worker_egress";
  bool probe_metadata =
      context.options.allow_metadata_probe && !context.process().skip_metadata_check;
  auto targets = egress_targets(context.config, probe_metadata);
  std::string metadata_note =
      probe_metadata
          ? ""
          : " (169.254.169.254 not probed: set BLOCKYARD_PREFLIGHT_ALLOW_METADATA_PROBE=1)";
  if (targets.empty()) {
    return result(name, kOk, "no internal services to probe" + metadata_note);
  }
  std::string reachable, blocked;
  bool critical = false;
  for (const auto& target : targets) {
    bool hit = context.options.egress_probe ? context.options.egress_probe(target)
                                            : sandboxed_probe(context, target);
    std::string label = target.name + " (" + target.address() + ")";
    if (hit) {
      reachable += (reachable.empty() ? "" : ", ") + label;
      critical = critical || target.critical;
    } else {
      blocked += (blocked.empty() ? "" : ", ") + target.name;
    }
  }
  if (reachable.empty()) {
    return result(name, kOk,
                  "worker access to internal services is blocked: " + blocked + metadata_note);
  }
  std::string gid = std::to_string(context.process().worker_gid);
  return result(
      name, critical ? kError : kWarning,
      "workers can reach internal services: " + reachable +
          ". Install destination-scoped firewall rules, e.g. `iptables -A OUTPUT -m owner "
          "--gid-owner " +
          gid +
          " -d <service-ip> -p tcp --dport <port> -j REJECT` (root) or `-m "
          "cgroup --path <blockyard cgroup>/workers` (see cgroup_delegation), and require "
          "authentication on those services. Do not block all worker egress: apps may "
          "legitimately need the internet." +
          metadata_note);
}

}  // namespace blockyard::preflight
