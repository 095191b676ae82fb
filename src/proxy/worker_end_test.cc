#include "proxy/worker_end.h"

#include <gtest/gtest.h>

namespace blockyard::proxy {
namespace {

TEST(WorkerEnd, ExitCodesSayWhatHappened) {
  EXPECT_EQ(exit_reason(1), "exited with code 1");
  EXPECT_EQ(exit_reason(0), "exited with code 0");
  EXPECT_EQ(exit_reason(137), "was killed (exit code 137: SIGKILL, most likely out of memory)");
  EXPECT_EQ(exit_reason(139), "was killed by a signal (exit code 139: SIGSEGV)");
  EXPECT_EQ(exit_reason(-1), "ended (exit status unknown)");
}

TEST(WorkerEnd, AppUsersGetOneSentenceByKind) {
  EXPECT_EQ(user_start_failure(start_timeout_reason(std::chrono::seconds(60))), "The app took too long to start.");
  EXPECT_EQ(user_start_failure("R " + exit_reason(137) + " during start-up"),
            "The app ran out of memory while starting.");
  EXPECT_EQ(user_start_failure("R exited with code 1 during start-up"),
            "The app stopped with an error while starting.");
  EXPECT_EQ(start_timeout_reason(std::chrono::seconds(60)),
            "the app did not start within 60 s (proxy.worker_start_timeout)");
  EXPECT_EQ(start_timeout_reason(std::chrono::milliseconds(300)),
            "the app did not start within 300 ms (proxy.worker_start_timeout)");
}

}  // namespace
}  // namespace blockyard::proxy
