#include "backend/process/bind_staging.h"

#include <stdexcept>
#include <string>

namespace blockyard::backend::process {

std::vector<ProcessOptions::PrivateBind> stage_binds(std::vector<SandboxBind>& binds,
                                                     bool as_worker_uid) {
  std::vector<ProcessOptions::PrivateBind> staged;
  // As the server's own UID bwrap reaches every source; without mount
  // privilege it binds them by path (the worker GID may search).
  if (!as_worker_uid || !can_stage_private_mounts()) return staged;
  if (binds.size() > kMaxPrivateBinds)
    throw std::runtime_error("process backend: more than " + std::to_string(kMaxPrivateBinds) +
                             " sandbox binds");
  for (auto& bind : binds) {
    const std::string name = "m" + std::to_string(staged.size());
    staged.push_back({bind.source.string(), name, bind.read_only});
    bind.source = std::filesystem::path(kPrivateStagingDir) / name;
  }
  return staged;
}

}  // namespace blockyard::backend::process
