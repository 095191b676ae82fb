// Deadline: a connection's time limit, kept on one lazily re-armed timer.
//
// A kept-alive connection moves its deadline on every request. Re-arming an
// Asio timer each time costs a timer-queue insert and cancel, a cancelled
// handler to run and often a timerfd_settime system call; Beast's per-
// operation stream timeouts paid that twice per proxied request. Here moving
// the deadline later only stores a time: the timer fires at the earlier time
// it was armed for, sees the deadline has moved, and waits again.
#pragma once

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/steady_timer.hpp>

#include <chrono>
#include <functional>
#include <memory>

namespace blockyard::http {

class Deadline {
 public:
  using Clock = std::chrono::steady_clock;

  // `on_expired` runs on `executor` once the deadline passes, unless the
  // deadline moved or this object has gone.
  Deadline(const boost::asio::any_io_executor& executor, std::function<void()> on_expired);
  Deadline(const Deadline&) = delete;
  Deadline& operator=(const Deadline&) = delete;

  void expires_after(Clock::duration duration) { expires_at(Clock::now() + duration); }
  void expires_at(Clock::time_point when);
  void expires_never() { deadline_ = Clock::time_point::max(); }
  void cancel();

 private:
  void arm(Clock::time_point when);
  void on_timer();

  boost::asio::steady_timer timer_;
  // Lives as long as this object: a handler queued before it ended sees
  // that and leaves it alone.
  std::shared_ptr<const bool> alive_ = std::make_shared<const bool>(true);
  std::function<void()> on_expired_;
  Clock::time_point deadline_ = Clock::time_point::max();
  bool armed_ = false;
};

}  // namespace blockyard::http
