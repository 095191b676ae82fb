#include "core/line_log.h"

#include <algorithm>
#include <chrono>

namespace blockyard {

void LineLog::append(std::string line) {
  {
    std::lock_guard lock(mu_);
    lines_.push_back(std::move(line));
    if (lines_.size() > capacity_) {
      lines_.pop_front();
      ++first_seq_;
    }
  }
  cv_.notify_all();
}

void LineLog::close() {
  {
    std::lock_guard lock(mu_);
    closed_ = true;
  }
  cv_.notify_all();
}

bool LineLog::closed() const {
  std::lock_guard lock(mu_);
  return closed_;
}

LineLog::Slice LineLog::read_locked(std::size_t from) const {
  Slice s;
  std::size_t start = std::max(from, first_seq_);
  std::size_t end = first_seq_ + lines_.size();
  for (std::size_t i = start; i < end; ++i) s.lines.push_back(lines_[i - first_seq_]);
  s.next = std::max(start, end);
  s.closed = closed_;
  return s;
}

LineLog::Slice LineLog::read_from(std::size_t from) const {
  std::lock_guard lock(mu_);
  return read_locked(from);
}

LineLog::Slice LineLog::wait_from(std::size_t from, int timeout_ms) const {
  std::unique_lock lock(mu_);
  cv_.wait_for(lock, std::chrono::milliseconds(timeout_ms),
               [&] { return closed_ || first_seq_ + lines_.size() > from; });
  return read_locked(from);
}

std::vector<std::string> LineLog::tail(std::size_t n) const {
  std::lock_guard lock(mu_);
  std::size_t count = std::min(n, lines_.size());
  return {lines_.end() - static_cast<std::ptrdiff_t>(count), lines_.end()};
}

}  // namespace blockyard
