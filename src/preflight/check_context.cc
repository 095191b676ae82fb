#include "preflight/check_context.h"

#include <unistd.h>

namespace blockyard::preflight {

std::string EgressTarget::address() const {
  bool ipv6 = host.find(':') != std::string::npos;
  return (ipv6 ? "[" + host + "]" : host) + ":" + std::to_string(port);
}

PreflightOptions options_from_environment(const Environment& env) {
  PreflightOptions options;
  auto it = env.find("BLOCKYARD_PREFLIGHT_ALLOW_METADATA_PROBE");
  options.allow_metadata_probe = it != env.end() && it->second == "1";
  return options;
}

std::optional<Identity> CheckContext::worker_identity() const {
  if (!options.per_worker_uids || ::geteuid() != 0) return std::nullopt;
  ProcessConfig pc = process();
  return Identity{static_cast<uid_t>(pc.worker_uid_range_start), static_cast<gid_t>(pc.worker_gid)};
}

backend::process::ProcMount CheckContext::worker_proc() const {
  return backend::process::proc_mount_for(process().worker_procfs);
}

std::filesystem::path CheckContext::probe_executable() const {
  if (!options.probe_executable.empty()) return options.probe_executable;
  std::error_code ec;
  auto self = std::filesystem::read_symlink("/proc/self/exe", ec);
  return ec ? std::filesystem::path("/proc/self/exe") : self;
}

}  // namespace blockyard::preflight
