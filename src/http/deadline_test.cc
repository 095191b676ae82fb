#include "http/deadline.h"

#include <gtest/gtest.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>

#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <thread>

namespace blockyard::http {
namespace {

using namespace std::chrono_literals;
using Clock = Deadline::Clock;

// A deadline on a real io_context: records when it expired.
struct Fixture {
  boost::asio::io_context io;
  std::optional<Clock::time_point> expired_at;
  int expirations = 0;
  std::optional<Deadline> deadline{std::in_place, io.get_executor(), [this] {
                                     expired_at = Clock::now();
                                     ++expirations;
                                   }};

  // Runs `then` after `delay` on the same io_context.
  void after(Clock::duration delay, std::function<void()> then) {
    auto timer = std::make_shared<boost::asio::steady_timer>(io, delay);
    timer->async_wait([timer, then = std::move(then)](auto) { then(); });
  }
};

TEST(Deadline, ExpiresOnceWhenItsTimePasses) {
  Fixture f;
  const auto start = Clock::now();
  f.deadline->expires_after(30ms);
  f.io.run();
  ASSERT_TRUE(f.expired_at);
  EXPECT_GE(*f.expired_at - start, 30ms);
  EXPECT_EQ(f.expirations, 1);
}

TEST(Deadline, MovedLaterItExpiresAtTheLaterTimeNotTheFirst) {
  Fixture f;
  const auto start = Clock::now();
  f.deadline->expires_after(30ms);
  // Kept alive: moved on every 10 ms, as requests on a kept-alive connection do.
  for (auto at : {10ms, 20ms, 30ms}) f.after(at, [&f] { f.deadline->expires_after(40ms); });
  f.io.run();
  ASSERT_TRUE(f.expired_at);
  EXPECT_GE(*f.expired_at - start, 70ms);
  EXPECT_EQ(f.expirations, 1);
}

TEST(Deadline, MovedEarlierItExpiresAtTheEarlierTime) {
  Fixture f;
  const auto start = Clock::now();
  f.deadline->expires_after(10s);
  f.after(5ms, [&f] { f.deadline->expires_after(20ms); });
  f.io.run();  // returns only once nothing is pending: the 10 s wait was replaced
  ASSERT_TRUE(f.expired_at);
  EXPECT_GE(*f.expired_at - start, 25ms);
  EXPECT_LT(*f.expired_at - start, 5s);
}

TEST(Deadline, NeverAndCancelledDeadlinesDoNotExpire) {
  Fixture f;
  f.deadline->expires_after(10ms);
  f.deadline->expires_never();
  f.io.run();
  EXPECT_EQ(f.expirations, 0);

  Fixture g;
  g.deadline->expires_after(10s);
  g.after(5ms, [&g] { g.deadline->cancel(); });
  const auto start = Clock::now();
  g.io.run();
  EXPECT_EQ(g.expirations, 0);
  EXPECT_LT(Clock::now() - start, 5s);
}

TEST(Deadline, AHandlerQueuedBeforeItWasDestroyedLeavesItAlone) {
  Fixture f;
  // Both waits are due by the time the loop first looks: their handlers are
  // queued together, earliest first, and the first one destroys the deadline
  // (as a connection ends) while the deadline's own handler is queued.
  f.after(1ms, [&f] { f.deadline.reset(); });
  f.deadline->expires_after(2ms);
  std::this_thread::sleep_for(20ms);
  f.io.run();
  EXPECT_FALSE(f.deadline);
  EXPECT_EQ(f.expirations, 0);
}

TEST(Deadline, DestroyedWithAWaitPendingItDoesNotExpire) {
  Fixture f;
  f.deadline->expires_after(10s);
  f.after(1ms, [&f] { f.deadline.reset(); });
  const auto start = Clock::now();
  f.io.run();
  EXPECT_EQ(f.expirations, 0);
  EXPECT_LT(Clock::now() - start, 5s);
}

}  // namespace
}  // namespace blockyard::http
