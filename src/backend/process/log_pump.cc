#include "backend/process/log_pump.h"

#include <poll.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <optional>
#include <utility>

namespace blockyard::backend::process {

void LineSplitter::emit(std::string line) {
  if (!line.empty() && line.back() == '\r') line.pop_back();
  log_.append(std::move(line));
}

void LineSplitter::feed(std::string_view bytes) {
  while (!bytes.empty()) {
    if (bytes.front() == '\n') {
      emit(std::exchange(partial_, {}));
      bytes.remove_prefix(1);
      continue;
    }
    // A full line with more text following: cut it here and carry on.
    if (partial_.size() >= max_line_) {
      emit(std::exchange(partial_, {}));
      continue;
    }
    const std::size_t nl = bytes.find('\n');
    const std::size_t take =
        std::min(nl == std::string_view::npos ? bytes.size() : nl, max_line_ - partial_.size());
    partial_.append(bytes.substr(0, take));
    bytes.remove_prefix(take);
  }
}

void LineSplitter::finish() {
  if (!partial_.empty()) emit(std::exchange(partial_, {}));
}

void pump_until_exit(int out, int err, int child, LineLog& log,
                     const std::function<void()>& on_exit,
                     std::chrono::milliseconds drain_after_exit) {
  using Clock = std::chrono::steady_clock;
  std::array<LineSplitter, 2> splitters{LineSplitter(log), LineSplitter(log)};
  std::array<bool, 2> open{true, true};
  bool exited = false;
  std::optional<Clock::time_point> drain_deadline;
  std::array<char, 64 * 1024> buf;

  while (open[0] || open[1] || !exited) {
    std::array<pollfd, 3> fds{};
    fds[0] = {open[0] ? out : -1, POLLIN, 0};
    fds[1] = {open[1] ? err : -1, POLLIN, 0};
    fds[2] = {exited ? -1 : child, POLLIN, 0};
    int timeout = -1;
    if (drain_deadline) {
      const auto left =
          std::chrono::duration_cast<std::chrono::milliseconds>(*drain_deadline - Clock::now());
      if (left.count() <= 0) break;
      timeout = static_cast<int>(left.count());
    }
    const int n = ::poll(fds.data(), fds.size(), timeout);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) break;  // cannot happen with valid fds; don't spin
    for (int i = 0; i < 2; ++i) {
      if (!open[i] || fds[i].revents == 0) continue;
      const ssize_t got = ::read(fds[i].fd, buf.data(), buf.size());
      if (got > 0) {
        splitters[i].feed(std::string_view(buf.data(), static_cast<std::size_t>(got)));
      } else if (got == 0 || (errno != EINTR && errno != EAGAIN)) {
        open[i] = false;
      }
    }
    if (!exited && fds[2].revents != 0) {
      exited = true;
      on_exit();
      drain_deadline = Clock::now() + drain_after_exit;
    }
  }
  if (!exited) on_exit();
  for (auto& s : splitters) s.finish();
}

}  // namespace blockyard::backend::process
