// LineLog: a bounded, thread-safe log of text lines that readers can follow.
// Used for task logs (bundle builds) and worker stdout/stderr. When more than
// `capacity` lines have been written the oldest are dropped; readers address
// lines by absolute sequence number, so a follower never sees a line twice.
#pragma once

#include <condition_variable>
#include <cstddef>
#include <deque>
#include <mutex>
#include <string>
#include <vector>

namespace blockyard {

class LineLog {
 public:
  explicit LineLog(std::size_t capacity = 50000) : capacity_(capacity) {}
  LineLog(const LineLog&) = delete;
  LineLog& operator=(const LineLog&) = delete;

  void append(std::string line);
  // Marks the log finished: followers stop once they have read everything.
  void close();
  bool closed() const;

  struct Slice {
    std::vector<std::string> lines;
    std::size_t next = 0;  // sequence number to ask for next time
    bool closed = false;   // log closed and everything up to `next` was returned
  };
  // Lines with sequence >= from (lines already dropped are skipped).
  Slice read_from(std::size_t from) const;
  // Like read_from, but waits up to `timeout_ms` for a new line when none is there.
  Slice wait_from(std::size_t from, int timeout_ms) const;
  std::vector<std::string> tail(std::size_t n) const;

 private:
  Slice read_locked(std::size_t from) const;

  const std::size_t capacity_;
  mutable std::mutex mu_;
  mutable std::condition_variable cv_;
  std::deque<std::string> lines_;
  std::size_t first_seq_ = 0;  // sequence number of lines_.front()
  bool closed_ = false;
};

}  // namespace blockyard
