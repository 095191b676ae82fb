// Why a worker-shaped sandbox could not be created: bwrap's own words plus
// what this process can see of its host (mountinfo, sysctls, its seccomp
// mode, its user namespace's ID maps) give one cause, and each cause has its
// own message with the fix for Docker, podman and Kubernetes where it is a
// container setting. Pure functions over text, so every cause is unit-tested
// with the input that produces it.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "preflight/subprocess.h"

namespace blockyard::preflight {

enum class SandboxFailure {
  kSpawnFailed,                   // bwrap could not be started (or the identity switch failed)
  kTimedOut,                      // no answer within the probe's deadline
  kIdentityNotMapped,             // the worker UID/GID does not exist in this user namespace
  kUserNamespacesDisabled,        // kernel sysctls forbid unprivileged user namespaces
  kAppArmorRestricted,            // AppArmor restricts unprivileged user namespaces
  kSeccompRefusesUserNamespaces,  // a seccomp filter answers EPERM to CLONE_NEWUSER
  kUserNamespaceRefused,          // refused, and nothing visible says why
  kProcMasked,    // fresh procfs refused: the runtime has mounted over parts of /proc
  kProcRefused,   // fresh procfs refused, /proc is not visibly masked
  kMountRefused,  // namespaces created, a mount or pivot_root refused
  kOther,
};

// Stable name of a cause, for logs and tests ("proc_masked", ...).
std::string_view failure_name(SandboxFailure cause);

// What this process can see of its host, read once per diagnosis.
struct HostFacts {
  std::string mountinfo;                  // /proc/self/mountinfo
  std::string unprivileged_userns_clone;  // kernel.unprivileged_userns_clone ("" = absent)
  std::string max_user_namespaces;        // user.max_user_namespaces
  std::string apparmor_restrict_userns;   // kernel.apparmor_restrict_unprivileged_userns
  std::string seccomp_mode;               // "Seccomp:" of /proc/self/status ("2" = filter)
  std::string uid_map;                    // /proc/self/uid_map
  std::string gid_map;                    // /proc/self/gid_map

  static HostFacts read_from_proc();
};

// How the probe ended: `spawn_error` when it never ran, else bwrap's output.
struct ProbeOutcome {
  std::string spawn_error{};
  bool timed_out = false;
  std::string output{};
};

struct Diagnosis {
  SandboxFailure cause = SandboxFailure::kOther;
  std::string message;  // what was found, and what to do
};

// Mount points below /proc that something is mounted over (a container
// runtime's masks and read-only re-binds), from mountinfo text, in order.
// binfmt_misc's mount point is left out: the kernel ignores mounts on
// permanently empty directories when it decides whether a new procfs would
// reveal more than the existing one.
std::vector<std::string> proc_overmounts(std::string_view mountinfo);

// True when `id` falls inside one of the ranges of an ID map
// (/proc/self/uid_map text: "inside outside count" per line).
bool id_is_mapped(std::string_view id_map, unsigned long id);

// `who` is appended to the first sentence ("as worker uid 60000", or "").
Diagnosis diagnose_sandbox_failure(const ProbeOutcome& outcome, const HostFacts& host,
                                   const std::optional<Identity>& identity, const std::string& who);

}  // namespace blockyard::preflight
