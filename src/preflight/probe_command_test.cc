#include "preflight/probe_command.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sys/wait.h>

#include <nlohmann/json.hpp>
#include <sstream>

#include "preflight/subprocess.h"
#include "preflight/test_support.h"

namespace blockyard::preflight {
namespace {

using ::testing::HasSubstr;

TEST(ProbeCommand, ReachableTargetExitsZeroWithJson) {
  testing::LoopbackListener listener;
  std::ostringstream out, err;
  std::string target = "127.0.0.1:" + std::to_string(listener.port());
  EXPECT_EQ(run_probe_command({"--tcp", target, "--timeout", "2s"}, out, err), 0);
  auto line = nlohmann::json::parse(out.str());
  EXPECT_EQ(line["target"], target);
  EXPECT_EQ(line["reachable"], true);
}

TEST(ProbeCommand, RefusedTargetExitsOne) {
  std::ostringstream out, err;
  std::string target = "127.0.0.1:" + std::to_string(testing::closed_port());
  EXPECT_EQ(run_probe_command({"--tcp", target}, out, err), 1);
  auto line = nlohmann::json::parse(out.str());
  EXPECT_EQ(line["reachable"], false);
  EXPECT_THAT(line["error"].get<std::string>(), HasSubstr("refused"));
}

TEST(ProbeCommand, UsageErrorsExitTwo) {
  std::ostringstream out, err;
  EXPECT_EQ(run_probe_command({}, out, err), 2);
  EXPECT_EQ(run_probe_command({"--tcp", "no-port"}, out, err), 2);
  EXPECT_EQ(run_probe_command({"--tcp", "127.0.0.1:1", "--timeout", "soon"}, out, err), 2);
  EXPECT_TRUE(out.str().empty());
}

// The subcommand of the real binary, as the sandbox runs it.
TEST(ProbeCommand, BlockyardBinaryExitCodes) {
  auto binary = testing::blockyard_binary();
  if (!std::filesystem::exists(binary)) GTEST_SKIP() << "build " << binary << " first";
  testing::LoopbackListener listener;
  auto open =
      run_command({.argv = {binary.string(), "probe", "--tcp",
                            "127.0.0.1:" + std::to_string(listener.port()), "--timeout", "2s"}},
                  std::chrono::seconds(10));
  EXPECT_EQ(open.exit_code, 0) << open.output;
  EXPECT_THAT(open.output, HasSubstr("\"reachable\":true"));
  auto closed = run_command({.argv = {binary.string(), "probe", "--tcp",
                                      "127.0.0.1:" + std::to_string(testing::closed_port())}},
                            std::chrono::seconds(10));
  EXPECT_EQ(closed.exit_code, 1) << closed.output;
  auto usage = run_command({.argv = {binary.string(), "probe"}}, std::chrono::seconds(10));
  EXPECT_EQ(usage.exit_code, 2) << usage.output;
}

TEST(Subprocess, TimeoutKillsTheChild) {
  auto start = std::chrono::steady_clock::now();
  auto r = run_command({.argv = {"/bin/sleep", "5"}}, std::chrono::milliseconds(200));
  EXPECT_TRUE(r.timed_out);
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(2));
}

TEST(Subprocess, MissingProgramIsASpawnError) {
  auto r = run_command({.argv = {"/nonexistent/program"}}, std::chrono::seconds(1));
  EXPECT_FALSE(r.started);
  EXPECT_THAT(r.error, HasSubstr("No such file"));
}

TEST(Subprocess, CapturesOutputAndExitCode) {
  auto r = run_command({.argv = {"/bin/sh", "-c", "echo out; echo err >&2; exit 7"}},
                       std::chrono::seconds(5));
  EXPECT_EQ(r.exit_code, 7);
  EXPECT_THAT(r.output, HasSubstr("out"));
  EXPECT_THAT(r.output, HasSubstr("err"));
}

}  // namespace
}  // namespace blockyard::preflight
