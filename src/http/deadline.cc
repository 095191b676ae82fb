#include "http/deadline.h"

#include <utility>

namespace blockyard::http {

Deadline::Deadline(const boost::asio::any_io_executor& executor, std::function<void()> on_expired)
    : timer_(executor), on_expired_(std::move(on_expired)) {}

void Deadline::expires_at(Clock::time_point when) {
  deadline_ = when;
  // A timer armed for this time or earlier catches the new deadline when it fires.
  if (armed_ && timer_.expiry() <= when) return;
  arm(when);
}

void Deadline::cancel() {
  deadline_ = Clock::time_point::max();
  armed_ = false;
  timer_.cancel();
}

void Deadline::arm(Clock::time_point when) {
  armed_ = true;
  timer_.expires_at(when);  // a wait already pending completes as aborted
  timer_.async_wait(
      [this, alive = std::weak_ptr<const bool>(alive_)](const boost::system::error_code& ec) {
        if (ec) return;  // re-armed or cancelled: a newer wait (if any) is in charge
        if (!alive.expired()) on_timer();
      });
}

void Deadline::on_timer() {
  armed_ = false;
  if (deadline_ == Clock::time_point::max()) return;
  if (Clock::now() < deadline_) return arm(deadline_);
  deadline_ = Clock::time_point::max();
  on_expired_();
}

}  // namespace blockyard::http
