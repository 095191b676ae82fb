// The bwrap-exec shim, and this test binary's main(): the backend starts the
// shim as `/proc/self/exe bwrap-exec …`, which inside the tests is this very
// binary, so main() dispatches the subcommand like the server's main() does.
#include "backend/process/bwrap_exec.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstring>
#include <string>
#include <vector>

namespace blockyard::backend::process {
namespace {

using ::testing::HasSubstr;

struct Outcome {
  int exit_code = -1;
  std::string output;
};

// Runs /proc/self/exe with `args`, stdout and stderr captured.
Outcome run_self(const std::vector<std::string>& args) {
  int fds[2];
  if (::pipe(fds) != 0) return {};
  const pid_t pid = ::fork();
  if (pid == 0) {
    ::dup2(fds[1], 1);
    ::dup2(fds[1], 2);
    std::vector<char*> argv;
    std::vector<std::string> copy = args;
    for (auto& a : copy) argv.push_back(a.data());
    argv.push_back(nullptr);
    ::execv("/proc/self/exe", argv.data());
    ::_exit(126);
  }
  ::close(fds[1]);
  Outcome out;
  char buf[1024];
  for (ssize_t n; (n = ::read(fds[0], buf, sizeof buf)) > 0;) out.output.append(buf, n);
  ::close(fds[0]);
  int status = 0;
  ::waitpid(pid, &status, 0);
  out.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  return out;
}

TEST(BwrapExec, ArgvPutsTheShimBeforeBwrap) {
  EXPECT_EQ(bwrap_exec_argv("/proc/self/exe", 60001, 65534, {"/usr/bin/bwrap", "--", "R"}),
            (std::vector<std::string>{"/proc/self/exe", "bwrap-exec", "--uid", "60001", "--gid",
                                      "65534", "--", "/usr/bin/bwrap", "--", "R"}));
}

TEST(BwrapExec, RejectsBadArguments) {
  const auto missing = run_self({"t", "bwrap-exec", "--uid", "60001", "--", "/bin/true"});
  EXPECT_EQ(missing.exit_code, 1);
  EXPECT_THAT(missing.output, HasSubstr("--uid and --gid are required"));
  const auto no_path = run_self({"t", "bwrap-exec", "--uid", "60001", "--gid", "65534", "--"});
  EXPECT_EQ(no_path.exit_code, 1);
  EXPECT_THAT(no_path.output, HasSubstr("missing bwrap path"));
  const auto root = run_self({"t", "bwrap-exec", "--uid", "0", "--gid", "0", "--", "/bin/true"});
  EXPECT_EQ(root.exit_code, 1);
  EXPECT_THAT(root.output, HasSubstr("refusing"));
  const auto junk = run_self({"t", "bwrap-exec", "--uid", "6x", "--gid", "1", "--", "/bin/true"});
  EXPECT_EQ(junk.exit_code, 1);
  // Staging is ProcessOptions::private_binds' job now, not the shim's.
  const auto bundle = run_self(
      {"t", "bwrap-exec", "--uid", "60001", "--gid", "65534", "--bundle", "/x", "--", "/bin/true"});
  EXPECT_EQ(bundle.exit_code, 1);
  EXPECT_THAT(bundle.output, HasSubstr("unexpected argument \"--bundle\""));
}

TEST(BwrapExec, DropsToTheGivenIdentityAndStaysDumpable) {
  if (::geteuid() != 0) GTEST_SKIP() << "needs root";
  // /bin/sh stands in for bwrap: it reports the credentials it runs with.
  const auto out =
      run_self({"t", "bwrap-exec", "--uid", "60123", "--gid", "65534", "--", "/bin/sh", "-c",
                "grep -E '^(Uid|Gid|Groups):' /proc/self/status; "
                "stat -c 'uid_map_owner=%u' /proc/self/uid_map"});
  ASSERT_EQ(out.exit_code, 0) << out.output;
  EXPECT_THAT(out.output, HasSubstr("Uid:\t60123\t60123\t60123\t60123"));
  EXPECT_THAT(out.output, HasSubstr("Gid:\t65534\t65534\t65534\t65534"));
  EXPECT_THAT(out.output, ::testing::ContainsRegex("Groups:[ \t]*\n"));
  EXPECT_THAT(out.output, HasSubstr("uid_map_owner=60123"));  // dumpable: bwrap can map
}

}  // namespace
}  // namespace blockyard::backend::process

int main(int argc, char** argv) {
  if (argc > 1 && std::strcmp(argv[1], blockyard::backend::process::kBwrapExecCommand) == 0)
    return blockyard::backend::process::run_bwrap_exec(argc, argv);
  ::testing::InitGoogleMock(&argc, argv);
  return RUN_ALL_TESTS();
}
