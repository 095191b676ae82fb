#include "deploy/build_log_file.h"

#include <fcntl.h>
#include <spdlog/spdlog.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <stdexcept>

namespace blockyard::deploy {

BuildLogFile::BuildLogFile(std::shared_ptr<LineLog> log, const std::filesystem::path& file)
    : log_(std::move(log)) {
  fd_ = ::open(file.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd_ < 0)
    throw std::runtime_error("cannot create build log " + file.string() + ": " +
                             std::strerror(errno));
  thread_ = std::thread([this] { run(); });
}

BuildLogFile::~BuildLogFile() {
  stop_ = true;
  thread_.join();
  ::close(fd_);
}

void BuildLogFile::run() {
  std::size_t next = 0;
  bool warned = false;
  while (true) {
    // After stop_, one last pass takes whatever is there.
    const bool last_pass = stop_.load();
    const LineLog::Slice slice = last_pass ? log_->read_from(next) : log_->wait_from(next, 200);
    next = slice.next;
    std::string chunk;
    for (const auto& line : slice.lines) chunk += line + "\n";
    std::size_t written = 0;
    while (written < chunk.size()) {
      const ssize_t n = ::write(fd_, chunk.data() + written, chunk.size() - written);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) {
        if (!warned) spdlog::warn("build log: write failed: {}", std::strerror(errno));
        warned = true;
        break;
      }
      written += static_cast<std::size_t>(n);
    }
    if (last_pass || slice.closed) return;
  }
}

}  // namespace blockyard::deploy
