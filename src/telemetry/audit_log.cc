#include "telemetry/audit_log.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <ctime>
#include <system_error>

#include <fmt/format.h>
#include <spdlog/spdlog.h>

namespace blockyard::telemetry {

std::string audit_timestamp() {
  timespec now{};
  ::clock_gettime(CLOCK_REALTIME, &now);
  std::tm utc{};
  ::gmtime_r(&now.tv_sec, &utc);
  return fmt::format("{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:09}Z", utc.tm_year + 1900,
                     utc.tm_mon + 1, utc.tm_mday, utc.tm_hour, utc.tm_min, utc.tm_sec, now.tv_nsec);
}

std::string AuditLog::render(const AuditEvent& event, const std::string& ts) {
  nlohmann::ordered_json line;
  line["ts"] = ts;
  line["action"] = event.action;
  line["actor"] = event.actor.empty() ? "anonymous" : event.actor;
  if (!event.target.empty()) line["target"] = event.target;
  if (!event.detail.is_null() && !event.detail.empty()) line["detail"] = event.detail;
  if (!event.source_ip.empty()) line["source_ip"] = event.source_ip;
  line["outcome"] = event.outcome;
  // Invalid UTF-8 from a client (a name claim, a header) must not lose the line.
  return line.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

AuditLog::AuditLog(std::filesystem::path path) : path_(std::move(path)) {
  std::lock_guard lock(mu_);
  open_locked();
}

void AuditLog::open_locked() {
  int fd = ::open(path_.c_str(), O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
  if (fd < 0) {
    throw std::system_error(errno, std::generic_category(),
                            "audit log " + path_.string() + ": cannot open for appending");
  }
  fd_.reset(fd);
}

// Log rotation renames the file away: follow the path, not the inode.
bool AuditLog::reopen_if_rotated_locked() {
  struct stat at_path {};
  struct stat open_file {};
  bool same = fd_.valid() && ::stat(path_.c_str(), &at_path) == 0 &&
              ::fstat(fd_.get(), &open_file) == 0 && at_path.st_ino == open_file.st_ino &&
              at_path.st_dev == open_file.st_dev;
  if (same) return true;
  try {
    open_locked();
    return true;
  } catch (const std::system_error& e) {
    spdlog::error("{}", e.what());
    return fd_.valid();
  }
}

void AuditLog::emit(const AuditEvent& event) {
  if (!enabled()) return;
  std::string line = render(event, audit_timestamp()) + "\n";
  std::lock_guard lock(mu_);
  if (!reopen_if_rotated_locked()) {
    ++failed_;
    spdlog::error("audit log {}: not open, lost entry {}", path_.string(), event.action);
    return;
  }
  // One write(2) of the whole line: O_APPEND makes it atomic against other
  // writers of the file, and a crash cannot leave half of an earlier line.
  std::size_t done = 0;
  while (done < line.size()) {
    ssize_t n = ::write(fd_.get(), line.data() + done, line.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      ++failed_;
      spdlog::error("audit log {}: write failed ({}), lost entry {}", path_.string(),
                    std::strerror(errno), event.action);
      return;
    }
    done += static_cast<std::size_t>(n);
  }
  if (::fdatasync(fd_.get()) != 0) {
    ++failed_;
    spdlog::error("audit log {}: fdatasync failed: {}", path_.string(), std::strerror(errno));
  }
}

}  // namespace blockyard::telemetry
