// Every cause diagnose_sandbox_failure() knows, fed the mountinfo text and
// bwrap output that produce it (taken from real runs: podman 4.3 + runc on
// Debian 12, bwrap 0.8), and checked for a message that names the right
// layer and the fix for each runtime.
#include "preflight/sandbox_diagnosis.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace blockyard::preflight {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::Not;

// /proc/self/mountinfo of PID 1 in `podman run --runtime runc` with the
// default masks (abridged to the proc and sys lines).
constexpr const char* kPodmanMasked =
    "309 308 0:70 / /proc rw,nosuid,nodev,noexec,relatime - proc proc rw\n"
    "311 308 0:72 / /sys ro,nosuid,nodev,noexec,relatime - sysfs sysfs ro\n"
    "231 309 0:70 /bus /proc/bus ro,nosuid,nodev,noexec,relatime - proc proc rw\n"
    "232 309 0:70 /fs /proc/fs ro,nosuid,nodev,noexec,relatime - proc proc rw\n"
    "233 309 0:70 /irq /proc/irq ro,nosuid,nodev,noexec,relatime - proc proc rw\n"
    "234 309 0:70 /sys /proc/sys ro,nosuid,nodev,noexec,relatime - proc proc rw\n"
    "235 309 0:75 / /proc/acpi ro,relatime - tmpfs tmpfs ro\n"
    "236 309 0:71 /null /proc/keys rw,nosuid,noexec - tmpfs tmpfs rw,size=65536k,mode=755\n"
    "237 309 0:71 /null /proc/timer_list rw,nosuid,noexec - tmpfs tmpfs rw,size=65536k\n"
    "238 311 0:76 / /sys/firmware ro,relatime - tmpfs tmpfs ro\n";

// The same with --security-opt unmask=/proc/*.
constexpr const char* kPodmanUnmasked =
    "309 308 0:70 / /proc rw,nosuid,nodev,noexec,relatime - proc proc rw\n"
    "311 308 0:72 / /sys ro,nosuid,nodev,noexec,relatime - sysfs sysfs ro\n"
    "238 311 0:76 / /sys/firmware ro,relatime - tmpfs tmpfs ro\n";

// A host: binfmt_misc sits on a permanently empty directory of procfs.
constexpr const char* kHost =
    "22 1 8:1 / / rw,relatime shared:1 - ext4 /dev/vda rw\n"
    "23 22 0:21 / /proc rw,nosuid,nodev,noexec,relatime shared:12 - proc proc rw\n"
    "40 23 0:35 / /proc/sys/fs/binfmt_misc rw,relatime shared:20 - binfmt_misc binfmt_misc rw\n";

constexpr const char* kProcRefused =
    "bwrap: Can't mount proc on /newroot/proc: Operation not permitted";
constexpr const char* kNoUserns =
    "bwrap: No permissions to create new namespace, likely because the kernel does not allow "
    "non-privileged user namespaces. See <https://deb.li/bubblewrap> or "
    "<file:///usr/share/doc/bubblewrap/README.Debian.gz>.";
constexpr const char* kPivotRoot = "bwrap: pivot_root: Operation not permitted";

HostFacts facts(std::string mountinfo, std::string seccomp = "0") {
  HostFacts f;
  f.mountinfo = std::move(mountinfo);
  f.unprivileged_userns_clone = "1";
  f.max_user_namespaces = "15000";
  f.apparmor_restrict_userns = "";
  f.seccomp_mode = std::move(seccomp);
  f.uid_map = "         0          0 4294967295\n";
  f.gid_map = "         0          0 4294967295\n";
  return f;
}

Diagnosis diagnose(const std::string& output, const HostFacts& host,
                   std::optional<Identity> identity = std::nullopt) {
  return diagnose_sandbox_failure(ProbeOutcome{.output = output}, host, identity,
                                  " as worker uid 60000");
}

// The fix for each of Docker, podman and Kubernetes appears in `message`.
void expect_runtime_fixes(const std::string& message, const std::string& docker,
                          const std::string& podman, const std::string& kubernetes) {
  EXPECT_THAT(message, HasSubstr(docker)) << message;
  EXPECT_THAT(message, HasSubstr(podman)) << message;
  EXPECT_THAT(message, HasSubstr(kubernetes)) << message;
}

TEST(ProcOvermounts, ListsTheRuntimesMasksInOrder) {
  EXPECT_THAT(proc_overmounts(kPodmanMasked),
              ElementsAre("/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys", "/proc/acpi",
                          "/proc/keys", "/proc/timer_list"));
}

TEST(ProcOvermounts, NoneWhenUnmaskedOrOnAHost) {
  EXPECT_THAT(proc_overmounts(kPodmanUnmasked), IsEmpty());
  EXPECT_THAT(proc_overmounts(kHost), IsEmpty());
  EXPECT_THAT(proc_overmounts(""), IsEmpty());
}

TEST(ProcOvermounts, UnescapesMountPointsAndIgnoresLookalikes) {
  EXPECT_THAT(proc_overmounts("1 2 0:1 / /proc/my\\040dir rw - tmpfs tmpfs rw\n"
                              "3 2 0:1 / /procfoo rw - tmpfs tmpfs rw\n"
                              "garbage\n"),
              ElementsAre("/proc/my dir"));
}

TEST(IdIsMapped, ChecksEveryRange) {
  const std::string map = "0 2147483647 65536\n100000 300000 10\n";
  EXPECT_TRUE(id_is_mapped(map, 0));
  EXPECT_TRUE(id_is_mapped(map, 65535));
  EXPECT_FALSE(id_is_mapped(map, 65536));
  EXPECT_TRUE(id_is_mapped(map, 100009));
  EXPECT_FALSE(id_is_mapped(map, 100010));
  EXPECT_FALSE(id_is_mapped("", 0));
}

TEST(Diagnose, MaskedProcNamesTheMasksAndTheUnmaskOptionsNotSeccomp) {
  auto d = diagnose(kProcRefused, facts(kPodmanMasked, "2"));
  EXPECT_EQ(d.cause, SandboxFailure::kProcMasked) << d.message;
  EXPECT_THAT(d.message, HasSubstr("as worker uid 60000"));
  EXPECT_THAT(d.message, HasSubstr("Can't mount proc"));
  EXPECT_THAT(d.message, HasSubstr("/proc/keys"));
  EXPECT_THAT(d.message, HasSubstr("The seccomp profile is not the cause"));
  expect_runtime_fixes(d.message, "systempaths=unconfined", "unmask=/proc/*",
                       "procMount: Unmasked");
  // Each unmask option comes with a user namespace for the container.
  expect_runtime_fixes(d.message, "userns-remap", "--userns=auto:size=65536", "hostUsers: false");
  EXPECT_THAT(d.message, HasSubstr("worker_procfs = \"none\""));
  EXPECT_THAT(d.message, Not(HasSubstr("seccomp=/etc/blockyard/seccomp.json")));
}

TEST(Diagnose, ProcRefusedWithoutMasksDoesNotBlameTheRuntimeMasks) {
  auto d = diagnose(kProcRefused, facts(kPodmanUnmasked, "2"));
  EXPECT_EQ(d.cause, SandboxFailure::kProcRefused) << d.message;
  EXPECT_THAT(d.message, Not(HasSubstr("unmask")));
  EXPECT_THAT(d.message, HasSubstr("worker_procfs"));
}

TEST(Diagnose, SeccompRefusalNamesTheOuterProfileForEachRuntime) {
  auto d = diagnose(kNoUserns, facts(kPodmanMasked, "2"));
  EXPECT_EQ(d.cause, SandboxFailure::kSeccompRefusesUserNamespaces) << d.message;
  EXPECT_THAT(d.message, HasSubstr("Seccomp: 2"));
  expect_runtime_fixes(d.message,
                       "Docker and podman `--security-opt seccomp=/etc/blockyard/seccomp.json`",
                       "by admin install-seccomp", "localhostProfile: blockyard-outer.json");
  EXPECT_THAT(d.message, Not(HasSubstr("unmask")));
}

TEST(Diagnose, KernelSysctlsComeBeforeSeccomp) {
  HostFacts host = facts(kHost, "2");
  host.unprivileged_userns_clone = "0";
  auto d = diagnose(kNoUserns, host);
  EXPECT_EQ(d.cause, SandboxFailure::kUserNamespacesDisabled) << d.message;
  EXPECT_THAT(d.message, HasSubstr("sysctl -w kernel.unprivileged_userns_clone=1"));
  EXPECT_THAT(d.message, Not(HasSubstr("seccomp=")));

  host.unprivileged_userns_clone = "1";
  host.max_user_namespaces = "0";
  auto max = diagnose("bwrap: Creating new namespace failed: No space left on device", host);
  EXPECT_EQ(max.cause, SandboxFailure::kUserNamespacesDisabled) << max.message;
  EXPECT_THAT(max.message, HasSubstr("user.max_user_namespaces"));
}

TEST(Diagnose, AppArmorRestriction) {
  HostFacts host = facts(kHost);
  host.apparmor_restrict_userns = "1";
  auto d = diagnose("bwrap: setting up uid map: Permission denied", host);
  EXPECT_EQ(d.cause, SandboxFailure::kAppArmorRestricted) << d.message;
  EXPECT_THAT(d.message, HasSubstr("by admin install-apparmor"));
  EXPECT_THAT(d.message, HasSubstr("apparmor=blockyard"));
}

TEST(Diagnose, RefusalWithNothingVisibleSaysSo) {
  auto d = diagnose(kNoUserns, facts(kHost, "0"));
  EXPECT_EQ(d.cause, SandboxFailure::kUserNamespaceRefused) << d.message;
  EXPECT_THAT(d.message, HasSubstr("Nothing visible says why"));
  EXPECT_THAT(d.message, Not(HasSubstr("seccomp=/etc")));
}

TEST(Diagnose, MountRefusedAfterTheNamespaceExists) {
  auto d = diagnose(kPivotRoot, facts(kHost, "2"));
  EXPECT_EQ(d.cause, SandboxFailure::kMountRefused) << d.message;
  EXPECT_THAT(d.message, HasSubstr("mount, umount2 and pivot_root"));
  EXPECT_THAT(d.message, HasSubstr("seccomp=/etc/blockyard/seccomp.json"));
}

TEST(Diagnose, WorkerIdentityOutsideTheContainersIdMap) {
  HostFacts host = facts(kPodmanUnmasked, "2");
  host.uid_map = "         0 2147483647      65534\n";
  host.gid_map = "         0 2147483647      65534\n";
  auto d =
      diagnose_sandbox_failure(ProbeOutcome{.spawn_error = "exec /usr/bin/bwrap: Invalid argument"},
                               host, Identity{60000, 65534}, " as worker uid 60000");
  EXPECT_EQ(d.cause, SandboxFailure::kIdentityNotMapped) << d.message;
  EXPECT_THAT(d.message, HasSubstr("gid 65534"));
  EXPECT_THAT(d.message, HasSubstr("The workers' gid 65534 is not mapped"));
  EXPECT_THAT(d.message, HasSubstr("--userns=auto:size=65536"));
}

TEST(Diagnose, SpawnFailureTimeoutAndUnknownOutput) {
  auto spawn = diagnose_sandbox_failure(ProbeOutcome{.spawn_error = "exec /x/bwrap: No such file"},
                                        facts(kHost), std::nullopt, "");
  EXPECT_EQ(spawn.cause, SandboxFailure::kSpawnFailed) << spawn.message;
  EXPECT_THAT(spawn.message, HasSubstr("bwrap_path"));

  auto slow =
      diagnose_sandbox_failure(ProbeOutcome{.timed_out = true}, facts(kHost), std::nullopt, "");
  EXPECT_EQ(slow.cause, SandboxFailure::kTimedOut) << slow.message;

  auto odd = diagnose("bwrap: something new went wrong", facts(kPodmanMasked, "2"));
  EXPECT_EQ(odd.cause, SandboxFailure::kOther) << odd.message;
  EXPECT_THAT(odd.message, HasSubstr("something new went wrong"));
  EXPECT_THAT(odd.message, Not(HasSubstr("unmask")));
  EXPECT_THAT(odd.message, Not(HasSubstr("seccomp=")));
}

TEST(Diagnose, EveryCauseHasItsOwnMessage) {
  // The first sentence is bwrap's words; what follows must differ by cause.
  std::vector<std::string> tails;
  auto tail = [](const Diagnosis& d) { return d.message.substr(d.message.find('.') + 1); };
  HostFacts apparmor = facts(kHost);
  apparmor.apparmor_restrict_userns = "1";
  HostFacts sysctl = facts(kHost);
  sysctl.unprivileged_userns_clone = "0";
  for (const Diagnosis& d :
       {diagnose(kProcRefused, facts(kPodmanMasked, "2")), diagnose(kProcRefused, facts(kHost)),
        diagnose(kNoUserns, facts(kHost, "2")), diagnose(kNoUserns, facts(kHost)),
        diagnose(kNoUserns, apparmor), diagnose(kNoUserns, sysctl),
        diagnose(kPivotRoot, facts(kHost, "2"))}) {
    for (const auto& seen : tails) EXPECT_NE(seen, tail(d)) << failure_name(d.cause);
    tails.push_back(tail(d));
  }
}

}  // namespace
}  // namespace blockyard::preflight
