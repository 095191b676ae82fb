// The process backend's checks against the real host: real bwrap, real R and
// shiny, real seccomp loading. Each is also made to fail on purpose.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <sys/stat.h>
#include <unistd.h>

#include <fstream>

#include "preflight/checks.h"
#include "preflight/preflight.h"
#include "preflight/test_support.h"
#include "store/test_temp_dir.h"

namespace blockyard::preflight {
namespace {

using blockyard::testing::TempDir;
using testing::context_for;
using ::testing::HasSubstr;
using ::testing::Not;

Config config_with(std::function<void(ProcessConfig&)> edit) {
  Config config;
  config.process = ProcessConfig{};
  edit(*config.process);
  return config;
}

void write_file(const std::filesystem::path& path, const std::string& bytes, int mode = 0644) {
  std::ofstream(path, std::ios::binary) << bytes;
  ::chmod(path.c_str(), mode);
}

std::string filter_bytes(const std::vector<sock_filter>& program) {
  return std::string(reinterpret_cast<const char*>(program.data()),
                     program.size() * sizeof(sock_filter));
}

TEST(BwrapAvailable, RealBwrapIsOk) {
  auto r = check_bwrap_available(context_for(Config{}));
  EXPECT_EQ(r.severity, "ok") << r.message;
  EXPECT_THAT(r.message, HasSubstr("bwrap version"));
}

TEST(BwrapAvailable, MissingBwrapIsAnErrorThatStopsStartup) {
  Config config = config_with([](ProcessConfig& p) { p.bwrap_path = "/nonexistent/bwrap"; });
  auto r = check_bwrap_available(context_for(config));
  EXPECT_EQ(r.severity, "error");
  EXPECT_THAT(r.message, HasSubstr("bwrap not found at \"/nonexistent/bwrap\""));
  EXPECT_THAT(r.message, HasSubstr("bwrap_path"));

  // The whole start-up run: the error stops it and the reason is spelt out.
  SystemChecks checks(config, PreflightOptions{}, /*backend_checks_enabled=*/true);
  Report report = checks.run_startup();
  EXPECT_TRUE(blocks_startup(report));
  EXPECT_THAT(startup_failure_message(report), HasSubstr("bwrap not found"));
}

TEST(BwrapAvailable, SkipPreflightRunsNoBackendCheck) {
  Config config = config_with([](ProcessConfig& p) { p.bwrap_path = "/nonexistent/bwrap"; });
  SystemChecks checks(config, PreflightOptions{}, /*backend_checks_enabled=*/false);
  Report report = checks.run_startup();
  EXPECT_FALSE(blocks_startup(report));
  for (const auto& r : report.results) EXPECT_EQ(r.category, "config") << r.name;
}

TEST(BwrapAvailable, BinaryThatFailsVersionIsAnError) {
  TempDir dir;
  write_file(dir.path() / "bwrap", "#!/bin/sh\necho broken >&2\nexit 3\n", 0755);
  auto r = check_bwrap_available(
      context_for(config_with([&](ProcessConfig& p) { p.bwrap_path = dir.path() / "bwrap"; })));
  EXPECT_EQ(r.severity, "error");
  EXPECT_THAT(r.message, HasSubstr("bwrap --version failed"));
  EXPECT_THAT(r.message, HasSubstr("broken"));
}

TEST(UserNamespaces, RealBwrapCanCreateASandbox) {
  auto r = check_user_namespaces(context_for(Config{}));
  EXPECT_EQ(r.severity, "ok") << r.message;
}

TEST(UserNamespaces, AsTheWorkerUidToo) {
  if (::geteuid() != 0) GTEST_SKIP() << "needs root";
  PreflightOptions options;
  options.per_worker_uids = true;
  auto r = check_user_namespaces(context_for(Config{}, options));
  EXPECT_EQ(r.severity, "ok") << r.message;
  EXPECT_THAT(r.message, HasSubstr("as worker uid 60000"));
}

TEST(UserNamespaces, FailingSandboxIsDiagnosedFromBwrapsWords) {
  TempDir dir;  // a "bwrap" that fails the way a refused user namespace does
  write_file(dir.path() / "bwrap",
             "#!/bin/sh\necho 'bwrap: No permissions to create new namespace, likely because the "
             "kernel does not allow non-privileged user namespaces.' >&2\nexit 1\n",
             0755);
  auto r = check_user_namespaces(
      context_for(config_with([&](ProcessConfig& p) { p.bwrap_path = dir.path() / "bwrap"; })));
  EXPECT_EQ(r.severity, "error");
  EXPECT_THAT(r.message, HasSubstr("No permissions to create new namespace"));
  // This host has no seccomp filter on the test and allows user namespaces:
  // the message says nothing visible explains it (sandbox_diagnosis_test
  // covers every other cause).
  EXPECT_THAT(r.message, HasSubstr("unprivileged_userns_clone"));
  EXPECT_THAT(r.message, Not(HasSubstr("masked")));
}

TEST(UserNamespaces, ProbeUsesTheConfiguredProcfs) {
  TempDir dir;  // records its arguments, then succeeds
  write_file(dir.path() / "bwrap",
             "#!/bin/sh\necho \"$@\" > " + (dir.path() / "args").string() + "\nexit 0\n", 0755);
  for (std::string procfs : {"fresh", "none"}) {
    auto r = check_user_namespaces(context_for(config_with([&](ProcessConfig& p) {
      p.bwrap_path = dir.path() / "bwrap";
      p.worker_procfs = procfs;
    })));
    EXPECT_EQ(r.severity, "ok") << r.message;
    std::ifstream in(dir.path() / "args");
    std::string args((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    if (procfs == "fresh") {
      EXPECT_THAT(args, HasSubstr("--proc /proc"));
    } else {
      EXPECT_THAT(args, Not(HasSubstr("--proc")));
      EXPECT_THAT(args, HasSubstr("--tmpfs /proc --remount-ro /proc"));
    }
  }
}

TEST(RBinary, RealRIsOk) {
  auto r = check_r_binary(context_for(Config{}));
  EXPECT_EQ(r.severity, "ok") << r.message;
  EXPECT_THAT(r.message, HasSubstr("version"));
}

TEST(RBinary, MissingRIsAnError) {
  auto r = check_r_binary(
      context_for(config_with([](ProcessConfig& p) { p.r_path = "/nonexistent/bin/R"; })));
  EXPECT_EQ(r.severity, "error");
  EXPECT_THAT(r.message, HasSubstr("R not found at \"/nonexistent/bin/R\""));
  EXPECT_THAT(r.message, HasSubstr("r_path"));
}

TEST(ShinyPackage, RealShinyIsOk) {
  auto r = check_shiny_package(context_for(Config{}));
  EXPECT_EQ(r.severity, "ok") << r.message;
  EXPECT_THAT(r.message, HasSubstr("shiny 1."));
}

TEST(ShinyPackage, RWithoutShinyIsAnError) {
  TempDir dir;  // an R installation whose library(shiny) fails
  write_file(dir.path() / "R", "#!/bin/sh\nexit 0\n", 0755);
  write_file(dir.path() / "Rscript",
             "#!/bin/sh\necho \"Error in library(shiny) : there is no package called 'shiny'\" "
             ">&2\nexit 1\n",
             0755);
  auto r = check_shiny_package(
      context_for(config_with([&](ProcessConfig& p) { p.r_path = dir.path() / "R"; })));
  EXPECT_EQ(r.severity, "error");
  EXPECT_THAT(r.message, HasSubstr("no package called 'shiny'"));
  EXPECT_THAT(r.message, HasSubstr("r-cran-shiny"));
}

TEST(SeccompProfile, NotConfiguredIsInfo) {
  EXPECT_EQ(check_seccomp_profile(context_for(Config{})).severity, "info");
}

TEST(SeccompProfile, MissingFilePointsAtTheBpfNotInstallSeccomp) {
  auto r = check_seccomp_profile(context_for(
      config_with([](ProcessConfig& p) { p.seccomp_profile = "/nonexistent/seccomp.bpf"; })));
  EXPECT_EQ(r.severity, "error");
  EXPECT_THAT(r.message, HasSubstr("No such file"));
  EXPECT_THAT(r.message, HasSubstr("seccomp.bpf"));
  EXPECT_THAT(r.message, HasSubstr("release assets"));
}

TEST(SeccompProfile, GarbageBytesAreAnError) {
  TempDir dir;
  auto path = dir.path() / "seccomp.bpf";
  for (std::string garbage : {std::string("not a filter"), std::string(64, '\xA5'),
                              std::string("\x00\x01\x02\x03\x04\x05\x06\x07", 8)}) {
    write_file(path, garbage);
    auto r = check_seccomp_profile(
        context_for(config_with([&](ProcessConfig& p) { p.seccomp_profile = path; })));
    EXPECT_EQ(r.severity, "error") << r.message;
    EXPECT_THAT(r.message, HasSubstr("seccomp.bpf"));
  }
}

TEST(SeccompProfile, JsonSourceInsteadOfBpfIsAnError) {
  TempDir dir;
  auto path = dir.path() / "seccomp.json";
  write_file(path, R"({"defaultAction": "SCMP_ACT_ERRNO"})");
  auto r = check_seccomp_profile(
      context_for(config_with([&](ProcessConfig& p) { p.seccomp_profile = path; })));
  EXPECT_EQ(r.severity, "error");
  EXPECT_THAT(r.message, HasSubstr("looks like JSON"));
}

TEST(SeccompProfile, EmptyFileIsAnError) {
  TempDir dir;
  auto path = dir.path() / "seccomp.bpf";
  write_file(path, "");
  auto r = check_seccomp_profile(
      context_for(config_with([&](ProcessConfig& p) { p.seccomp_profile = path; })));
  EXPECT_EQ(r.severity, "error");
  EXPECT_THAT(r.message, HasSubstr("is empty"));
}

TEST(SeccompProfile, AllowAllFilterIsOk) {
  TempDir dir;
  auto path = dir.path() / "seccomp.bpf";
  write_file(path, filter_bytes({BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW)}));
  auto r = check_seccomp_profile(
      context_for(config_with([&](ProcessConfig& p) { p.seccomp_profile = path; })));
  EXPECT_EQ(r.severity, "ok") << r.message;
  EXPECT_THAT(r.message, HasSubstr("1 BPF instructions"));
}

TEST(SeccompProfile, FilterUnderWhichNothingRunsIsAnError) {
  TempDir dir;
  auto path = dir.path() / "seccomp.bpf";
  write_file(path, filter_bytes({BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_KILL_PROCESS)}));
  auto r = check_seccomp_profile(
      context_for(config_with([&](ProcessConfig& p) { p.seccomp_profile = path; })));
  EXPECT_EQ(r.severity, "error");
  EXPECT_THAT(r.message, HasSubstr("cannot run under it"));
}

TEST(PortRange, DefaultRangeIsOk) {
  auto r = check_port_range(context_for(Config{}));
  EXPECT_EQ(r.severity, "ok") << r.message;
  EXPECT_THAT(r.message, HasSubstr("1000 ports"));
}

TEST(PortRange, FullyOccupiedRangeIsAnError) {
  testing::LoopbackListener listener;
  auto r = check_port_range(context_for(config_with(
      [&](ProcessConfig& p) { p.port_range_start = p.port_range_end = listener.port(); })));
  EXPECT_EQ(r.severity, "error");
  EXPECT_THAT(r.message, HasSubstr("0 free"));
}

TEST(PortRange, TinyRangeIsAWarning) {
  int port = testing::closed_port();
  auto r = check_port_range(context_for(
      config_with([&](ProcessConfig& p) { p.port_range_start = p.port_range_end = port; })));
  EXPECT_EQ(r.severity, "warning") << r.message;
}

TEST(HostUidMapping, WithoutPerWorkerUidsIsInfo) {
  auto r = check_bwrap_host_uid_mapping(context_for(Config{}));
  EXPECT_EQ(r.severity, "info");
  EXPECT_THAT(r.message, HasSubstr("iptables"));
}

TEST(HostUidMapping, AsRootTheWorkerUidIsHostEffective) {
  if (::geteuid() != 0) GTEST_SKIP() << "needs root";
  PreflightOptions options;
  options.per_worker_uids = true;
  auto r = check_bwrap_host_uid_mapping(context_for(Config{}, options));
  EXPECT_EQ(r.severity, "ok") << r.message;
  EXPECT_THAT(r.message, HasSubstr("uid=60000 gid=65534"));
}

TEST(CgroupDelegation, ReportsWhatCanBeEnforced) {
  auto r = check_cgroup_delegation(context_for(Config{}));
  EXPECT_THAT(r.severity, ::testing::AnyOf("ok", "warning"));
  if (r.severity == "ok") {
    EXPECT_THAT(r.message, HasSubstr("can be enforced"));
  } else {
    EXPECT_THAT(r.message,
                ::testing::AnyOf(HasSubstr("cannot be enforced"), HasSubstr("no writable cgroup")));
  }
}

}  // namespace
}  // namespace blockyard::preflight
