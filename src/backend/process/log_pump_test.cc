#include "backend/process/log_pump.h"

#include <fcntl.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

namespace blockyard::backend::process {
namespace {

using ::testing::ElementsAre;

std::vector<std::string> all_lines(const LineLog& log) {
  return log.read_from(0).lines;
}

TEST(LineSplitter, SplitsAcrossChunksAndDropsCarriageReturns) {
  LineLog log;
  LineSplitter s(log);
  s.feed("one\r\ntw");
  s.feed("o\n\nthr");
  s.finish();
  EXPECT_THAT(all_lines(log), ElementsAre("one", "two", "", "thr"));
}

TEST(LineSplitter, CutsOverlongLinesAndKeepsGoing) {
  LineLog log;
  LineSplitter s(log, 4);
  s.feed("abcdefghij\nxy");
  s.feed("zw\nabcd");
  s.feed("\n");
  EXPECT_THAT(all_lines(log), ElementsAre("abcd", "efgh", "ij", "xyzw", "abcd"));
}

TEST(PumpUntilExit, InterleavesBothStreamsAndCallsOnExitOnce) {
  int out[2], err[2];
  ASSERT_EQ(::pipe2(out, O_CLOEXEC), 0);
  ASSERT_EQ(::pipe2(err, O_CLOEXEC), 0);
  const pid_t pid = ::fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    ::dup2(out[1], 1);
    ::dup2(err[1], 2);
    const char msg1[] = "to stdout\n";
    const char msg2[] = "to stderr\npartial";
    [[maybe_unused]] auto a = ::write(1, msg1, sizeof msg1 - 1);
    [[maybe_unused]] auto b = ::write(2, msg2, sizeof msg2 - 1);
    ::_exit(3);
  }
  ::close(out[1]);
  ::close(err[1]);
  const int pidfd = static_cast<int>(::syscall(SYS_pidfd_open, pid, 0));
  ASSERT_GE(pidfd, 0);
  LineLog log;
  int calls = 0, status = 0;
  pump_until_exit(
      out[0], err[0], pidfd, log,
      [&] {
        ++calls;
        ::waitpid(pid, &status, 0);
      },
      std::chrono::milliseconds(500));
  ::close(out[0]);
  ::close(err[0]);
  ::close(pidfd);
  EXPECT_EQ(calls, 1);
  EXPECT_EQ(WEXITSTATUS(status), 3);
  auto lines = all_lines(log);
  std::sort(lines.begin(), lines.end());
  EXPECT_THAT(lines, ElementsAre("partial", "to stderr", "to stdout"));
}

}  // namespace
}  // namespace blockyard::backend::process
