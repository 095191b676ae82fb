#include "core/task_pool.h"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <future>

namespace blockyard {
namespace {

using namespace std::chrono_literals;

TEST(TaskPool, RunsEveryPostedTaskBeforeShutdownReturns) {
  std::atomic<int> ran{0};
  TaskPool pool("test", 3);
  for (int i = 0; i < 100; ++i) EXPECT_TRUE(pool.post([&] { ++ran; }));
  pool.shutdown();
  EXPECT_EQ(ran.load(), 100);
  EXPECT_FALSE(pool.post([&] { ++ran; })) << "no task is accepted after shutdown";
  EXPECT_EQ(ran.load(), 100);
}

TEST(TaskPool, ABlockedTaskDoesNotHoldUpTheOtherThreads) {
  TaskPool pool("test", 2);
  std::promise<void> release;
  auto released = release.get_future().share();
  pool.post([released] { released.wait(); });
  std::promise<void> other;
  pool.post([&] { other.set_value(); });
  EXPECT_EQ(other.get_future().wait_for(5s), std::future_status::ready);
  release.set_value();
}

TEST(TaskPool, AThrowingTaskIsDroppedAndThePoolGoesOn) {
  TaskPool pool("test", 1);
  pool.post([] { throw std::runtime_error("boom"); });
  std::promise<void> after;
  pool.post([&] { after.set_value(); });
  EXPECT_EQ(after.get_future().wait_for(5s), std::future_status::ready);
}

TEST(TaskPool, ShutdownFromItsOwnTaskDoesNotDeadlock) {
  auto pool = std::make_unique<TaskPool>("test", 1);
  std::promise<void> done;
  pool->post([&] {
    pool->shutdown();
    done.set_value();
  });
  EXPECT_EQ(done.get_future().wait_for(5s), std::future_status::ready);
  pool.reset();  // joins
}

}  // namespace
}  // namespace blockyard
