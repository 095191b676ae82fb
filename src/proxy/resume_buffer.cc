#include "proxy/resume_buffer.h"

namespace blockyard::proxy {

std::uint64_t ReplayBuffer::push(SharedMessage message) {
  kept_bytes_ += message->payload.size();
  kept_.push_back(std::move(message));
  if (kept_bytes_ > max_bytes_) overflowed_ = true;
  return last();
}

bool ReplayBuffer::acknowledge(std::uint64_t n) {
  if (n > last()) return false;
  while (acknowledged_ < n) {
    kept_bytes_ -= kept_.front()->payload.size();
    kept_.pop_front();
    ++acknowledged_;
  }
  return true;
}

bool ReplayBuffer::can_resume_from(std::uint64_t n) const {
  return !overflowed_ && n >= acknowledged_ && n <= last();
}

SharedMessage ReplayBuffer::at(std::uint64_t seq) const {
  if (seq <= acknowledged_ || seq > last()) return nullptr;
  return kept_[seq - acknowledged_ - 1];
}

}  // namespace blockyard::proxy
