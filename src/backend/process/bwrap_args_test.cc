#include "backend/process/bwrap_args.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>

#include "backend/process/sandbox_mounts.h"
#include "backend/process/shiny_command.h"

namespace blockyard::backend::process {
namespace {

namespace fs = std::filesystem;
using ::testing::ElementsAre;
using ::testing::HasSubstr;

// Index of the first occurrence of the consecutive tokens `seq` in argv, or -1.
long find_seq(const std::vector<std::string>& argv, const std::vector<std::string>& seq) {
  auto it = std::search(argv.begin(), argv.end(), seq.begin(), seq.end());
  return it == argv.end() ? -1 : it - argv.begin();
}

// A fake host root: /usr, /etc, /bin -> usr/bin, /srv (empty), /proc, /tmp.
class FakeRoot : public ::testing::Test {
 protected:
  void SetUp() override {
    root_ = fs::temp_directory_path() /
            ("by-fakeroot-" + std::to_string(::getpid()) + "-" +
             ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(root_);
    for (const char* d : {"usr/bin", "etc", "srv/data", "proc", "tmp", "dev"})
      fs::create_directories(root_ / d);
    fs::create_directory_symlink("usr/bin", root_ / "bin");
    std::ofstream(root_ / "info.json") << "{}";
  }
  void TearDown() override { fs::remove_all(root_); }
  fs::path root_;
};

TEST_F(FakeRoot, ExistingMountPointBindsTheHostRootReadOnly) {
  fs::create_directory(root_ / "app");
  const auto args = sandbox_mount_args("/b", "/app", root_);
  EXPECT_THAT(args, ElementsAre("--ro-bind", root_.string(), "/", "--proc", "/proc", "--dev",
                                "/dev", "--tmpfs", "/tmp", "--ro-bind", "/b", "/app"));
  EXPECT_FALSE(needs_tmpfs_root("/app", root_));
}

TEST_F(FakeRoot, EmptyProcCoversTheHostsProcInsteadOfMountingOne) {
  fs::create_directory(root_ / "app");
  const auto args = sandbox_mount_args({{"/b", "/app", true}}, root_, {}, ProcMount::kEmpty);
  EXPECT_THAT(args, ElementsAre("--ro-bind", root_.string(), "/", "--perms", "0555", "--tmpfs",
                                "/proc", "--remount-ro", "/proc", "--dev", "/dev", "--tmpfs",
                                "/tmp", "--ro-bind", "/b", "/app"));
  EXPECT_EQ(proc_mount_for("none"), ProcMount::kEmpty);
  EXPECT_EQ(proc_mount_for("fresh"), ProcMount::kFresh);

  SandboxSpec spec;
  spec.bundle_host_path = "/b";
  spec.bundle_mount = "/tmp/app";
  spec.command = {"/bin/true"};
  spec.proc = ProcMount::kEmpty;
  const auto argv = build_bwrap_argv(spec);
  EXPECT_EQ(std::count(argv.begin(), argv.end(), "--proc"), 0);
  EXPECT_GE(find_seq(argv, {"--tmpfs", "/proc", "--remount-ro", "/proc"}), 0);
}

TEST_F(FakeRoot, MissingMountPointBuildsTheRootOnATmpfs) {
  ASSERT_TRUE(needs_tmpfs_root("/app", root_));
  const auto args = sandbox_mount_args("/b", "/app", root_);
  EXPECT_EQ(find_seq(args, {"--ro-bind", root_.string(), "/"}), -1);
  EXPECT_GE(find_seq(args, {"--ro-bind", (root_ / "usr").string(), "/usr"}), 0);
  EXPECT_GE(find_seq(args, {"--ro-bind", (root_ / "etc").string(), "/etc"}), 0);
  EXPECT_GE(find_seq(args, {"--ro-bind", (root_ / "info.json").string(), "/info.json"}), 0);
  EXPECT_GE(find_seq(args, {"--symlink", "usr/bin", "/bin"}), 0);
  // proc, dev and tmp get fresh mounts, not host binds.
  EXPECT_EQ(find_seq(args, {"--ro-bind", (root_ / "proc").string(), "/proc"}), -1);
  EXPECT_EQ(find_seq(args, {"--ro-bind", (root_ / "tmp").string(), "/tmp"}), -1);
  // The bundle is bound before the tmpfs root is made read-only, last.
  const long bundle = find_seq(args, {"--ro-bind", "/b", "/app"});
  ASSERT_GE(bundle, 0);
  EXPECT_EQ(find_seq(args, {"--remount-ro", "/"}), static_cast<long>(args.size()) - 2);
}

TEST_F(FakeRoot, NestedMissingMountPointRebuildsItsParent) {
  const auto args = sandbox_mount_args("/b", "/srv/app", root_);
  EXPECT_EQ(find_seq(args, {"--ro-bind", (root_ / "srv").string(), "/srv"}), -1);
  EXPECT_GE(find_seq(args, {"--dir", "/srv"}), 0);
  EXPECT_GE(find_seq(args, {"--ro-bind", (root_ / "srv/data").string(), "/srv/data"}), 0);
  EXPECT_GE(find_seq(args, {"--ro-bind", "/b", "/srv/app"}), 0);
  EXPECT_GE(find_seq(args, {"--remount-ro", "/"}), 0);
}

TEST_F(FakeRoot, MountPointUnderTmpNeedsNoHostDirectory) {
  EXPECT_FALSE(needs_tmpfs_root("/tmp/app", root_));
  const auto args = sandbox_mount_args("/b", "/tmp/app", root_);
  EXPECT_LT(find_seq(args, {"--tmpfs", "/tmp"}), find_seq(args, {"--ro-bind", "/b", "/tmp/app"}));
}

TEST_F(FakeRoot, BadMountPointsAreRejected) {
  std::ofstream(root_ / "file");
  for (const char* bad : {"", "app", "/", "/tmp", "/proc/x", "/dev/app", "/sys/x", "/a/../b",
                          "/file", "/bin/app", "/app/"}) {
    EXPECT_THROW(sandbox_mount_args("/b", bad, root_), std::invalid_argument) << bad;
  }
}

TEST_F(FakeRoot, SeveralMissingMountPointsShareOneTmpfsRoot) {
  const std::vector<SandboxBind> binds{
      {"/b", "/app", true}, {"/o", "/out", false}, {"/c", "/srv/cache", false}};
  ASSERT_TRUE(needs_tmpfs_root(binds, root_));
  const auto args = sandbox_mount_args(binds, root_);
  EXPECT_EQ(find_seq(args, {"--ro-bind", root_.string(), "/"}), -1);
  EXPECT_GE(find_seq(args, {"--dir", "/srv"}), 0);
  EXPECT_GE(find_seq(args, {"--ro-bind", (root_ / "srv/data").string(), "/srv/data"}), 0);
  EXPECT_GE(find_seq(args, {"--ro-bind", "/b", "/app"}), 0);
  EXPECT_GE(find_seq(args, {"--bind", "/o", "/out"}), 0);
  EXPECT_GE(find_seq(args, {"--bind", "/c", "/srv/cache"}), 0);
  EXPECT_EQ(find_seq(args, {"--remount-ro", "/"}), static_cast<long>(args.size()) - 2);
}

TEST_F(FakeRoot, NestedMountPointsAreRejected) {
  EXPECT_THROW(sandbox_mount_args({{"/b", "/app", true}, {"/o", "/app/out", false}}, root_),
               std::invalid_argument);
}

TEST(BwrapArgs, FlagsComeInTheDocumentedOrder) {
  SandboxSpec spec;
  spec.bundle_host_path = "/data/bundles/a/1";
  spec.bundle_mount = "/tmp/app";  // keeps the mount section independent of this host
  spec.env = {{"PATH", "/usr/bin:/bin"}, {"SHINY_PORT", "10001"}};
  spec.command = {"/usr/bin/Rscript", "-e", "1"};
  spec.info_fd = 3;
  const auto argv = build_bwrap_argv(spec);
  EXPECT_EQ(argv.front(), "/usr/bin/bwrap");
  const long userns = find_seq(argv, {"--unshare-user"});
  const long pidns = find_seq(argv, {"--unshare-pid"});
  const long ipc = find_seq(argv, {"--unshare-ipc"});
  const long uts = find_seq(argv, {"--unshare-uts"});
  const long cgroup = find_seq(argv, {"--unshare-cgroup-try"});
  const long die = find_seq(argv, {"--die-with-parent"});
  const long session = find_seq(argv, {"--new-session"});
  const long caps = find_seq(argv, {"--cap-drop", "ALL"});
  const long root = find_seq(argv, {"--ro-bind", "/", "/"});
  const long proc = find_seq(argv, {"--proc", "/proc"});
  const long dev = find_seq(argv, {"--dev", "/dev"});
  const long tmp = find_seq(argv, {"--tmpfs", "/tmp"});
  const long bundle = find_seq(argv, {"--ro-bind", "/data/bundles/a/1", "/tmp/app"});
  const long chdir = find_seq(argv, {"--chdir", "/tmp/app"});
  const long clearenv = find_seq(argv, {"--clearenv"});
  const long setenv = find_seq(argv, {"--setenv", "PATH", "/usr/bin:/bin"});
  const long port = find_seq(argv, {"--setenv", "SHINY_PORT", "10001"});
  const long info = find_seq(argv, {"--info-fd", "3"});
  const long dashdash = find_seq(argv, {"--", "/usr/bin/Rscript", "-e", "1"});
  for (long i : {userns, pidns, ipc, uts, cgroup, die, session, caps, root, proc, dev, tmp, bundle,
                 chdir, clearenv, setenv, port, info, dashdash})
    EXPECT_GE(i, 0);
  EXPECT_TRUE(userns < pidns && pidns < ipc && ipc < uts && uts < cgroup && cgroup < die &&
              die < session && session < caps && caps < root && root < proc && proc < dev &&
              dev < tmp && tmp < bundle && bundle < chdir && chdir < clearenv &&
              clearenv < setenv && setenv < port && port < info && info < dashdash);
  EXPECT_EQ(dashdash + 4, static_cast<long>(argv.size()));  // the command ends the argv
  EXPECT_EQ(std::count(argv.begin(), argv.end(), "--"), 1);
}

TEST(BwrapArgs, EmptyCommandIsRejected) {
  SandboxSpec spec;
  spec.bundle_host_path = "/b";
  spec.bundle_mount = "/tmp/app";
  EXPECT_THROW(build_bwrap_argv(spec), std::invalid_argument);
}

TEST(WorkerEnv, MinimalBaseThenExtrasThenShinyAddressLast) {
  const auto env =
      worker_environment({{"PATH", "/opt/bin"}, {"A", "server"}, {"SHINY_PORT", "1"}},
                         {{"A", "spawn"}, {"B", "b"}, {"SHINY_HOST", "0.0.0.0"}}, 10007);
  using P = std::pair<std::string, std::string>;
  EXPECT_THAT(env, ElementsAre(P{"PATH", "/opt/bin"}, P{"HOME", "/tmp"}, P{"TMPDIR", "/tmp"},
                               P{"LANG", "C.UTF-8"}, P{"SHINY_SERVER_VERSION", "0.3.4"},
                               P{"A", "spawn"}, P{"B", "b"},
                               P{"SHINY_HOST", "127.0.0.1"}, P{"SHINY_PORT", "10007"}));
}

TEST(WorkerEnv, NeverContainsTheServersEnvironment) {
  ::setenv("BY_ARGS_TEST_SECRET", "s3cret", 1);
  const auto env = worker_environment({}, {}, 10000);
  for (const auto& [name, value] : env) {
    EXPECT_NE(name, "BY_ARGS_TEST_SECRET");
    EXPECT_NE(value, "s3cret");
  }
  EXPECT_EQ(env.size(), 7u);
}

TEST(WorkerEnv, InvalidNamesAreRejected) {
  EXPECT_THROW(worker_environment({{"", "x"}}, {}, 1), std::invalid_argument);
  EXPECT_THROW(worker_environment({}, {{"A=B", "x"}}, 1), std::invalid_argument);
  EXPECT_THROW(worker_environment({}, {{"A", std::string("x\0y", 3)}}, 1), std::invalid_argument);
}

TEST(ShinyCommand, RunsRunAppOnTheMountedBundle) {
  EXPECT_EQ(rscript_beside("/opt/R/4.4.1/bin/R"), "/opt/R/4.4.1/bin/Rscript");
  EXPECT_THAT(shiny_command("/usr/bin/Rscript", "/app", 10003),
              ElementsAre("/usr/bin/Rscript", "-e",
                          "shiny::runApp(\"/app\", host = \"127.0.0.1\", port = 10003L, "
                          "launch.browser = FALSE)"));
}

TEST(ShinyCommand, RStringLiteralEscapes) {
  EXPECT_EQ(r_string_literal("a\"b\\c\nd"), "\"a\\\"b\\\\c\\nd\"");
  EXPECT_EQ(r_string_literal(std::string("\x01", 1)), "\"\\x01\"");
}

}  // namespace
}  // namespace blockyard::backend::process

namespace blockyard::backend::process {
namespace {

TEST(BwrapArgs, IdentityAndSeccompAreBuiltInPlaceNotSpliced) {
  SandboxSpec spec;
  spec.bundle_host_path = "/b";
  spec.bundle_mount = "/tmp/app";
  spec.command = {"/usr/bin/Rscript", "--", "--seccomp"};  // a literal "--" in the command
  spec.uid = 60003;
  spec.gid = 65534;
  spec.seccomp_fd = 4;
  const auto argv = build_bwrap_argv(spec);
  const long userns = find_seq(argv, {"--unshare-user"});
  const long uid = find_seq(argv, {"--uid", "60003"});
  const long gid = find_seq(argv, {"--gid", "65534"});
  const long seccomp = find_seq(argv, {"--seccomp", "4"});
  const long dashdash = find_seq(argv, {"--", "/usr/bin/Rscript", "--", "--seccomp"});
  ASSERT_GE(userns, 0);
  ASSERT_GE(uid, 0);
  ASSERT_GE(gid, 0);
  ASSERT_GE(seccomp, 0);
  EXPECT_TRUE(userns < uid && uid < gid && gid < seccomp && seccomp < dashdash);
  EXPECT_EQ(dashdash + 4, static_cast<long>(argv.size()));  // the command is untouched

  spec.uid = spec.gid = spec.seccomp_fd = -1;
  const auto plain = build_bwrap_argv(spec);
  EXPECT_EQ(find_seq(plain, {"--uid"}), -1);
  EXPECT_EQ(std::count(plain.begin(), plain.end(), "--seccomp"), 1);  // the command's own
}

}  // namespace
}  // namespace blockyard::backend::process
