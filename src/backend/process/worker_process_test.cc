#include "backend/process/worker_process.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/resource.h>

#include <atomic>

#include "backend/process/backend_waits_for_test.h"
#include "backend/process/process_tree.h"

namespace blockyard::backend::process {
namespace {

using std::chrono::milliseconds;
using ::testing::ElementsAre;
using ::testing::HasSubstr;

ProcessOptions shell(const std::string& script) {
  ProcessOptions o;
  o.argv = {"/bin/sh", "-c", script};
  o.log = std::make_shared<LineLog>();
  return o;
}

TEST(WorkerProcess, CapturesOutputAndExitCodeThenClosesTheLog) {
  auto o = shell("echo out; echo err >&2; exit 7");
  std::atomic<int> seen{-100};
  o.on_exit = [&](int code) { seen = code; };
  auto log = o.log;
  auto p = WorkerProcess::start(std::move(o));
  ASSERT_TRUE(p->wait_finished(milliseconds(5000)));
  EXPECT_FALSE(p->running());
  EXPECT_EQ(p->exit_code(), 7);
  EXPECT_EQ(seen, 7);
  EXPECT_TRUE(log->closed());
  auto lines = log->read_from(0).lines;
  std::sort(lines.begin(), lines.end());
  EXPECT_THAT(lines, ElementsAre("err", "out"));
}

TEST(WorkerProcess, ChildGetsExactlyTheGivenEnvironmentAndNoExtraFds) {
  ::setenv("BY_WP_TEST_CANARY", "leak", 1);
  auto o = shell("/usr/bin/env; ls /proc/self/fd | tr '\\n' ' '; echo");
  o.env = {"ONLY=this"};
  auto log = o.log;
  auto p = WorkerProcess::start(std::move(o));
  ASSERT_TRUE(p->wait_finished(milliseconds(5000)));
  const auto lines = log->read_from(0).lines;
  EXPECT_THAT(lines, ::testing::Contains("ONLY=this"));
  for (const auto& l : lines) EXPECT_THAT(l, ::testing::Not(HasSubstr("BY_WP_TEST_CANARY")));
  // ls itself opens one directory fd (3); nothing else beyond stdio.
  EXPECT_THAT(lines, ::testing::Contains("0 1 2 3 "));
}

TEST(WorkerProcess, SignalDeathIsReportedAs128PlusSignal) {
  auto p = WorkerProcess::start(shell("exec sleep 30"));
  EXPECT_TRUE(p->running());
  EXPECT_TRUE(p->signal(SIGTERM));
  ASSERT_TRUE(p->wait_finished(milliseconds(5000)));
  EXPECT_EQ(p->exit_code(), 128 + SIGTERM);
  EXPECT_FALSE(p->signal(SIGTERM));  // reaped: never signals a stale pid
}

TEST(WorkerProcess, ExecFailureThrowsAndCallsNoCallback) {
  ProcessOptions o;
  o.argv = {"/nonexistent/binary"};
  bool called = false;
  o.on_exit = [&](int) { called = true; };
  try {
    WorkerProcess::start(std::move(o));
    FAIL() << "expected an exec failure";
  } catch (const std::runtime_error& e) {
    EXPECT_THAT(e.what(), HasSubstr("No such file or directory"));
  }
  EXPECT_FALSE(called);
}

// The error WorkerProcess::start() throws for `options` ("" if it starts).
std::string start_error(ProcessOptions options) {
  try {
    WorkerProcess::start(std::move(options))->wait_finished(milliseconds(5000));
  } catch (const std::runtime_error& e) {
    return e.what();
  }
  return "";
}

// A child that fails before exec says which step failed, and why.
TEST(WorkerProcess, ASetUpFailureNamesTheStepAndTheError) {
  auto bad_cgroup = shell("exit 0");
  bad_cgroup.cgroup_procs_fds = {987654};  // not an open fd: joining the cgroup fails
  const std::string cgroup = start_error(std::move(bad_cgroup));
  EXPECT_THAT(cgroup, HasSubstr("join the cgroups (before exec of /bin/sh)"));
  EXPECT_THAT(cgroup, HasSubstr("Bad file descriptor"));

  auto bad_limit = shell("exit 0");
  bad_limit.rlimits = {{RLIMIT_NLIMITS + 5, 1}};
  const std::string limit = start_error(std::move(bad_limit));
  EXPECT_THAT(limit, HasSubstr("set the rlimits"));
  EXPECT_THAT(limit, HasSubstr("Invalid argument"));

  ProcessOptions missing;
  missing.argv = {"/nonexistent/binary"};
  EXPECT_THAT(start_error(std::move(missing)),
              HasSubstr("exec /nonexistent/binary: No such file or directory"));
}

TEST(WorkerProcess, RunAsDropsToThatIdentityWithNoGroupsAndStaysDumpable) {
  if (::geteuid() != 0) GTEST_SKIP() << "needs root";
  // /bin/sh stands in for bwrap: it reports the credentials it runs with.
  auto o = shell(
      "grep -E '^(Uid|Gid|Groups):' /proc/self/status; "
      "stat -c 'uid_map_owner=%u' /proc/self/uid_map");
  o.run_as = ProcessOptions::Identity{60123, 65534};
  auto log = o.log;
  auto p = WorkerProcess::start(std::move(o));
  ASSERT_TRUE(p->wait_finished(milliseconds(5000)));
  const std::string out = test_support::log_text(*log);
  ASSERT_EQ(p->exit_code(), 0) << out;
  EXPECT_THAT(out, HasSubstr("Uid:\t60123\t60123\t60123\t60123"));
  EXPECT_THAT(out, HasSubstr("Gid:\t65534\t65534\t65534\t65534"));
  EXPECT_THAT(out, ::testing::ContainsRegex("Groups:[ \t]*\n"));
  EXPECT_THAT(out, HasSubstr("uid_map_owner=60123"));  // dumpable: bwrap can map
}

TEST(WorkerProcess, RunAsRootIsRefused) {
  auto o = shell("true");
  o.run_as = ProcessOptions::Identity{0, 0};
  EXPECT_THROW(WorkerProcess::start(std::move(o)), std::invalid_argument);
}

TEST(WorkerProcess, DestructionKillsTheChild) {
  int pid = 0;
  {
    auto p = WorkerProcess::start(shell("exec sleep 30"));
    pid = p->pid();
    EXPECT_TRUE(process_alive(pid));
  }
  EXPECT_FALSE(process_alive(pid));
}

TEST(WorkerProcess, InfoPipeIsFd3) {
  auto o = shell("echo '{\"child-pid\": 42}' >&3");
  o.info_pipe = true;
  auto p = WorkerProcess::start(std::move(o));
  EXPECT_EQ(parse_bwrap_child_pid(p->read_info(milliseconds(5000))), 42);
}

TEST(ProcessTree, ParsesBwrapInfo) {
  EXPECT_EQ(parse_bwrap_child_pid("{\n    \"child-pid\": 8773,\n    \"mnt-namespace\": 1\n}"),
            8773);
  EXPECT_EQ(parse_bwrap_child_pid("{}"), 0);
  EXPECT_EQ(parse_bwrap_child_pid("{\"child-pid\": x}"), 0);
}

TEST(ProcessTree, FindsDescendants) {
  auto p = WorkerProcess::start(shell("sleep 30 & wait"));
  std::vector<int> kids;
  for (int i = 0; i < 100 && kids.empty(); ++i) {
    kids = descendants(p->pid());
    std::this_thread::sleep_for(milliseconds(10));
  }
  ASSERT_EQ(kids.size(), 1u);
  EXPECT_EQ(parent_of(kids[0]), p->pid());
  EXPECT_TRUE(descendants(-1).empty());
}

}  // namespace
}  // namespace blockyard::backend::process
