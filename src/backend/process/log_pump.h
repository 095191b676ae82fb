// Moving a worker's stdout and stderr into its LineLog.
#pragma once

#include <chrono>
#include <cstddef>
#include <functional>
#include <string>
#include <string_view>

#include "core/line_log.h"

namespace blockyard::backend::process {

// Cuts one byte stream into lines ("\n", a trailing "\r" dropped) and appends
// them to a LineLog. A line longer than `max_line` bytes is cut into pieces
// of that size, so one runaway line never stops the pipe being drained.
// Not thread-safe: one splitter per stream.
class LineSplitter {
 public:
  explicit LineSplitter(LineLog& log, std::size_t max_line = 64 * 1024)
      : log_(log), max_line_(max_line) {}
  void feed(std::string_view bytes);
  // Appends a pending partial line, if any (the stream ended without "\n").
  void finish();

 private:
  void emit(std::string line);

  LineLog& log_;
  const std::size_t max_line_;
  std::string partial_;
};

// Reads the pipes `out` and `err` (both streams into `log`, in arrival order)
// until both reach EOF and the child behind the pidfd `child` has exited.
// When `child` becomes readable, `on_exit` runs once (it reaps the child);
// after that the pipes are drained for at most `drain_after_exit`, because a
// descendant that inherited them must not keep the worker "alive". Returns
// when done; does not close `log` or the fds. Runs on the calling thread.
void pump_until_exit(int out, int err, int child, LineLog& log,
                     const std::function<void()>& on_exit,
                     std::chrono::milliseconds drain_after_exit);

}  // namespace blockyard::backend::process
