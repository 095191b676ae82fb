// CompactQueue: a first-in first-out queue that holds no memory while empty.
//
// A resumable WebSocket session keeps three queues that are empty nearly all
// its life; std::deque allocates ~600 bytes for each even then (libstdc++
// keeps a map and one 512-byte block). This one is a vector read from a
// moving head: the consumed front is compacted away once it is half of the
// storage, and the storage is released when the last element is popped.
//
// Thread safety: none (one session's strand).
#pragma once

#include <cstddef>
#include <utility>
#include <vector>

namespace blockyard::proxy {

template <class T>
class CompactQueue {
 public:
  bool empty() const { return head_ == items_.size(); }
  std::size_t size() const { return items_.size() - head_; }
  // Elements held in storage (popped ones not yet compacted away included).
  std::size_t capacity() const { return items_.capacity(); }

  T& front() { return items_[head_]; }
  const T& operator[](std::size_t i) const { return items_[head_ + i]; }

  void push_back(T value) { items_.push_back(std::move(value)); }

  void pop_front() {
    items_[head_++] = T();
    if (empty()) {
      std::vector<T>().swap(items_);
      head_ = 0;
    } else if (head_ >= kCompactAfter && head_ * 2 >= items_.size()) {
      items_.erase(items_.begin(), items_.begin() + static_cast<std::ptrdiff_t>(head_));
      head_ = 0;
    }
  }

 private:
  static constexpr std::size_t kCompactAfter = 32;
  std::vector<T> items_;
  std::size_t head_ = 0;  // index of the front element
};

}  // namespace blockyard::proxy
