#include "preflight/sandbox_diagnosis.h"

#include <fstream>
#include <sstream>

namespace blockyard::preflight {

namespace {

std::string read_file(const char* path) {
  std::ifstream in(path);
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

std::string first_line(const std::string& text) {
  return trim(text.substr(0, text.find('\n')));
}

bool contains(std::string_view text, std::string_view part) {
  return text.find(part) != std::string_view::npos;
}

// mountinfo escapes space, tab, newline and backslash as \ooo.
std::string unescape(std::string_view field) {
  std::string out;
  for (std::size_t i = 0; i < field.size(); ++i) {
    if (field[i] == '\\' && i + 3 < field.size()) {
      std::string octal(field.substr(i + 1, 3));
      if (octal.find_first_not_of("01234567") == std::string::npos) {
        out.push_back(static_cast<char>(std::stoi(octal, nullptr, 8)));
        i += 3;
        continue;
      }
    }
    out.push_back(field[i]);
  }
  return out;
}

std::string joined(const std::vector<std::string>& items, std::size_t at_most) {
  std::string out;
  for (std::size_t i = 0; i < items.size() && i < at_most; ++i) out += (i ? ", " : "") + items[i];
  if (items.size() > at_most) out += ", and " + std::to_string(items.size() - at_most) + " more";
  return out;
}

constexpr const char* kOuterProfileFix =
    " Start the container with blockyard's outer seccomp profile (Docker's default plus user "
    "namespaces for bubblewrap), written by `by admin install-seccomp` or taken from the image "
    "(/etc/blockyard/seccomp.json): Docker and podman `--security-opt "
    "seccomp=/etc/blockyard/seccomp.json`; Kubernetes `securityContext.seccompProfile: {type: "
    "Localhost, localhostProfile: blockyard-outer.json}` with the file in the kubelet's seccomp "
    "directory.";

constexpr const char* kUnmaskFix =
    " Start the container with /proc unmasked and in its own user namespace, so that its root is "
    "not the host's: podman `--security-opt unmask=/proc/* --userns=auto:size=65536`; Docker "
    "`--security-opt systempaths=unconfined` with the daemon's userns-remap (or rootless Docker); "
    "Kubernetes `securityContext.procMount: Unmasked` with `hostUsers: false`. Without a user "
    "namespace for the container, keep the masks and set [process] worker_procfs = \"none\" "
    "(workers keep their own PID namespace but get an empty /proc). See "
    "docs/containerized-mode.md.";

Diagnosis userns_refused(const std::string& head, const HostFacts& host) {
  std::string sysctls;
  if (host.unprivileged_userns_clone == "0")
    sysctls +=
        " kernel.unprivileged_userns_clone = 0 (fix: sysctl -w kernel.unprivileged_userns_clone=1, "
        "persist it in /etc/sysctl.d/).";
  if (host.max_user_namespaces == "0")
    sysctls += " user.max_user_namespaces = 0 (fix: sysctl -w user.max_user_namespaces=15000).";
  if (!sysctls.empty())
    return {SandboxFailure::kUserNamespacesDisabled,
            head + " The kernel forbids unprivileged user namespaces:" + sysctls};
  if (host.apparmor_restrict_userns == "1")
    return {SandboxFailure::kAppArmorRestricted,
            head +
                " AppArmor restricts unprivileged user namespaces "
                "(kernel.apparmor_restrict_unprivileged_userns = 1): load blockyard's AppArmor "
                "profile (`by admin install-apparmor`, then apparmor_parser -r "
                "/etc/apparmor.d/blockyard; in a container also `--security-opt "
                "apparmor=blockyard`, Kubernetes `appArmorProfile: {type: Localhost, "
                "localhostProfile: blockyard}`), or set the sysctl to 0."};
  if (host.seccomp_mode == "2")
    return {SandboxFailure::kSeccompRefusesUserNamespaces,
            head +
                " This process runs under a seccomp filter (Seccomp: 2), so the refusal comes "
                "from the container's seccomp profile: the default profiles of Docker, podman "
                "and containerd allow user namespaces only with CAP_SYS_ADMIN." +
                kOuterProfileFix};
  return {SandboxFailure::kUserNamespaceRefused,
          head +
              " Nothing visible says why: kernel.unprivileged_userns_clone, "
              "user.max_user_namespaces and AppArmor allow them and no seccomp filter is active. "
              "Check the host's security modules (SELinux, a hardened kernel) and whether "
              "blockyard itself runs in a sandbox that forbids nesting."};
}

Diagnosis identity_not_mapped(const std::string& head, const HostFacts& host,
                              const Identity& identity) {
  std::vector<std::string> missing;
  if (!id_is_mapped(host.uid_map, identity.uid))
    missing.push_back("uid " + std::to_string(identity.uid));
  if (!id_is_mapped(host.gid_map, identity.gid))
    missing.push_back("gid " + std::to_string(identity.gid));
  return {SandboxFailure::kIdentityNotMapped,
          head + " The workers' " + joined(missing, 2) + (missing.size() > 1 ? " are" : " is") +
              " not mapped in this container's user namespace (uid_map: " +
              first_line(host.uid_map) + ", gid_map: " + first_line(host.gid_map) +
              "): give the container at least 65536 IDs (podman `--userns=auto:size=65536`; "
              "Docker's userns-remap and Kubernetes `hostUsers: false` map 65536), or move "
              "[process] worker_uid_range_start/end and worker_gid inside the mapped range."};
}

}  // namespace

std::string_view failure_name(SandboxFailure cause) {
  switch (cause) {
    case SandboxFailure::kSpawnFailed:
      return "spawn_failed";
    case SandboxFailure::kTimedOut:
      return "timed_out";
    case SandboxFailure::kIdentityNotMapped:
      return "identity_not_mapped";
    case SandboxFailure::kUserNamespacesDisabled:
      return "user_namespaces_disabled";
    case SandboxFailure::kAppArmorRestricted:
      return "apparmor_restricted";
    case SandboxFailure::kSeccompRefusesUserNamespaces:
      return "seccomp_refuses_user_namespaces";
    case SandboxFailure::kUserNamespaceRefused:
      return "user_namespace_refused";
    case SandboxFailure::kProcMasked:
      return "proc_masked";
    case SandboxFailure::kProcRefused:
      return "proc_refused";
    case SandboxFailure::kMountRefused:
      return "mount_refused";
    case SandboxFailure::kOther:
      return "other";
  }
  return "other";
}

HostFacts HostFacts::read_from_proc() {
  HostFacts facts;
  facts.mountinfo = read_file("/proc/self/mountinfo");
  facts.unprivileged_userns_clone =
      first_line(read_file("/proc/sys/kernel/unprivileged_userns_clone"));
  facts.max_user_namespaces = first_line(read_file("/proc/sys/user/max_user_namespaces"));
  facts.apparmor_restrict_userns =
      first_line(read_file("/proc/sys/kernel/apparmor_restrict_unprivileged_userns"));
  std::istringstream status(read_file("/proc/self/status"));
  for (std::string line; std::getline(status, line);)
    if (line.rfind("Seccomp:", 0) == 0) facts.seccomp_mode = trim(line.substr(8));
  facts.uid_map = read_file("/proc/self/uid_map");
  facts.gid_map = read_file("/proc/self/gid_map");
  return facts;
}

std::vector<std::string> proc_overmounts(std::string_view mountinfo) {
  std::vector<std::string> out;
  std::istringstream lines{std::string(mountinfo)};
  for (std::string line; std::getline(lines, line);) {
    // id parent major:minor root mount-point options ...
    std::istringstream fields(line);
    std::string id, parent, device, root, mount_point;
    if (!(fields >> id >> parent >> device >> root >> mount_point)) continue;
    std::string path = unescape(mount_point);
    if (path.rfind("/proc/", 0) != 0) continue;
    if (path == "/proc/sys/fs/binfmt_misc") continue;
    out.push_back(path);
  }
  return out;
}

bool id_is_mapped(std::string_view id_map, unsigned long id) {
  std::istringstream lines{std::string(id_map)};
  unsigned long inside = 0, outside = 0, count = 0;
  while (lines >> inside >> outside >> count)
    if (id >= inside && id - inside < count) return true;
  return false;
}

Diagnosis diagnose_sandbox_failure(const ProbeOutcome& outcome, const HostFacts& host,
                                   const std::optional<Identity>& identity,
                                   const std::string& who) {
  const std::string head_start = "bwrap cannot create a worker sandbox" + who + ": ";
  if (identity && !host.uid_map.empty() &&
      (!id_is_mapped(host.uid_map, identity->uid) || !id_is_mapped(host.gid_map, identity->gid))) {
    std::string words = outcome.spawn_error.empty() ? outcome.output : outcome.spawn_error;
    return identity_not_mapped(head_start + trim(words) + ".", host, *identity);
  }
  if (!outcome.spawn_error.empty())
    return {SandboxFailure::kSpawnFailed,
            head_start + outcome.spawn_error + ". bwrap could not be started" +
                (identity ? " as the worker identity" : "") +
                ": check [process] bwrap_path and that the file is executable."};
  if (outcome.timed_out)
    return {SandboxFailure::kTimedOut,
            head_start + "no answer within the probe's deadline; the host may be overloaded."};

  const std::string& said = outcome.output;
  const std::string head = head_start + trim(said) + ".";
  if (contains(said, "Can't mount proc")) {
    auto masks = proc_overmounts(host.mountinfo);
    if (!masks.empty())
      return {SandboxFailure::kProcMasked,
              head + " The container runtime has mounted over parts of /proc (" + joined(masks, 6) +
                  "), and the kernel refuses a fresh /proc in the worker's namespaces while the "
                  "existing one is partly hidden. The seccomp profile is not the cause." +
                  kUnmaskFix};
    return {SandboxFailure::kProcRefused,
            head +
                " Nothing is mounted over /proc, so the kernel's refusal has another cause (a "
                "security module, or no procfs mounted at /proc at all). Setting [process] "
                "worker_procfs = \"none\" starts workers without /proc; see "
                "docs/containerized-mode.md."};
  }
  if (contains(said, "No permissions to create new namespace") ||
      contains(said, "Creating new namespace failed") || contains(said, "setting up uid map") ||
      contains(said, "unshare failed"))
    return userns_refused(head, host);
  if (contains(said, "pivot_root") || contains(said, "Failed to make / slave") ||
      contains(said, "Can't mount tmpfs") || contains(said, "Failed to mount") ||
      contains(said, "Can't bind mount") || contains(said, "Can't remount"))
    return {SandboxFailure::kMountRefused,
            head +
                " bwrap created its namespaces but a mount inside them was refused: a seccomp "
                "profile that allows user namespaces but not mount, umount2 and pivot_root (e.g. "
                "Docker's default profile with --cap-add SYS_ADMIN), or an AppArmor profile that "
                "denies mount (Docker's docker-default: add `--security-opt apparmor=blockyard` "
                "after `by admin install-apparmor`)." +
                kOuterProfileFix};
  return {SandboxFailure::kOther,
          head +
              " This failure is not one blockyard recognises; bwrap's words above say what "
              "failed."};
}

}  // namespace blockyard::preflight
