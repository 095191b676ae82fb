// The shipped blob under real bubblewrap, passed exactly as the process
// backend passes it: the file opened on fd 3 and `--seccomp 3`.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "seccomp/test_child.h"

namespace blockyard::seccomp {
namespace {

using testing::CommandOutcome;
using ::testing::ContainsRegex;
using ::testing::HasSubstr;
using ::testing::Not;
using testing::run_command;

const char* kBlob = BLOCKYARD_BINARY_DIR "/seccomp.bpf";

// A worker-shaped sandbox: read-only host, private /tmp, own user and pid
// namespaces, optionally its own network namespace (loopback only).
std::vector<std::string> sandbox(bool with_seccomp, bool own_network,
                                 std::vector<std::string> command) {
  std::vector<std::string> argv{"bwrap",
                                "--ro-bind",
                                "/",
                                "/",
                                "--dev",
                                "/dev",
                                "--proc",
                                "/proc",
                                "--tmpfs",
                                "/tmp",
                                "--unshare-user",
                                "--unshare-pid",
                                "--die-with-parent"};
  if (own_network) argv.push_back("--unshare-net");
  if (with_seccomp) {
    argv.push_back("--seccomp");
    argv.push_back("3");
  }
  argv.push_back("--");
  argv.insert(argv.end(), command.begin(), command.end());
  return argv;
}

CommandOutcome run_sandboxed(std::vector<std::string> command, bool own_network = false) {
  return run_command(sandbox(true, own_network, std::move(command)), kBlob);
}

TEST(BwrapSeccomp, RWithShinyAndForkedChildrenRuns) {
  const auto out = run_sandboxed({"Rscript", "-e",
                                  "library(shiny); x <- parallel::mclapply(1:2, identity); "
                                  "stopifnot(identical(x, list(1L, 2L))); cat('ok')"});
  EXPECT_EQ(out.exit_code, 0) << out.output;
  EXPECT_THAT(out.output, HasSubstr("ok"));
}

TEST(BwrapSeccomp, ShinyAppServesWithItsIoThreads) {
  // httpuv serves from a background I/O thread: the server answering proves
  // pthread_create works under the filter (the original's blob aborted here).
  const std::string script = R"SH(
Rscript -e 'shiny::runApp(shiny::shinyApp(shiny::fluidPage("hello-sandbox"),
  function(input, output) {}), port = 8765, launch.browser = FALSE)' >/tmp/r.log 2>&1 &
rpid=$!
out=""
for i in $(seq 1 200); do out=$(curl -sf http://127.0.0.1:8765/) && break; sleep 0.1; done
echo "threads=$(ls /proc/$rpid/task | wc -l)"
kill $rpid
case "$out" in *hello-sandbox*) echo served;; *) echo "not served"; cat /tmp/r.log;; esac
)SH";
  const auto out = run_sandboxed({"sh", "-c", script}, /*own_network=*/true);
  EXPECT_EQ(out.exit_code, 0) << out.output;
  EXPECT_THAT(out.output, HasSubstr("served")) << out.output;
  EXPECT_THAT(out.output, ContainsRegex("threads=([2-9]|[1-9][0-9]+)\n")) << out.output;
}

TEST(BwrapSeccomp, ThreadedPythonRuns) {
  const auto out =
      run_sandboxed({"/usr/bin/python3", "-c",
                     "import threading\n"
                     "seen = []\n"
                     "ts = [threading.Thread(target=seen.append, args=(i,)) for i in range(4)]\n"
                     "[t.start() for t in ts]; [t.join() for t in ts]\n"
                     "print('threads', sorted(seen))"});
  EXPECT_EQ(out.exit_code, 0) << out.output;
  EXPECT_THAT(out.output, HasSubstr("threads [0, 1, 2, 3]"));
}

TEST(BwrapSeccomp, NestedUserNamespaceIsRefused) {
  const auto out = run_sandboxed({"unshare", "-U", "true"});
  EXPECT_NE(out.exit_code, 0) << out.output;
  EXPECT_THAT(out.output, HasSubstr("Operation not permitted"));
}

TEST(BwrapSeccomp, MountIsRefused) {
  const auto out = run_sandboxed({"sh", "-c", "mount -t tmpfs none /tmp; echo rc=$?"});
  EXPECT_THAT(out.output, Not(HasSubstr("rc=0"))) << out.output;
}

TEST(BwrapSeccomp, ControlWithoutSeccompNestedUserNamespaceWorks) {
  // Shows the refusal above comes from the blob, not from bwrap or the host.
  const auto out = run_command(sandbox(false, false, {"unshare", "-U", "true"}), "");
  EXPECT_EQ(out.exit_code, 0) << out.output;
}

}  // namespace
}  // namespace blockyard::seccomp
