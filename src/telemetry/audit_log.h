// AuditLog: who did what, as JSON lines in [audit] path (control-plane spec
// §5.1), one line per sign-in, sign-out, token, app, deploy, grant and user
// change:
//
//   {"ts":"2026-03-18T14:30:00.123456789Z","action":"access.grant",
//    "actor":"alice","target":"<app id>","detail":{...},
//    "source_ip":"203.0.113.7","outcome":"success"}
//
// Unlike the original's queue (which dropped entries under load and lost
// what was queued on a crash), emit() writes the line with one append
// write(2) and fdatasync before it returns: a crash loses at most the line
// being written. Audit events are rare (no per-request events), so the sync
// costs nothing that matters.
//
// The file is created 0600. If it is renamed away (log rotation) the next
// emit reopens the path.
//
// Thread safety: emit() may be called from any thread; lines never
// interleave.
#pragma once

#include <atomic>
#include <cstdint>
#include <filesystem>
#include <mutex>
#include <string>

#include <nlohmann/json.hpp>

#include "core/unique_fd.h"

namespace blockyard::telemetry {

struct AuditEvent {
  std::string action;               // e.g. "user.login", "app.create"
  std::string actor;                // a user's sub, or "anonymous"
  std::string target;               // app id, token id, user sub...; omitted when empty
  nlohmann::json detail;            // an object; omitted when null or empty
  std::string source_ip;            // the client address; omitted when empty
  std::string outcome = "success";  // success | failure | denied
};

class AuditLog {
 public:
  // A disabled log: emit() does nothing.
  AuditLog() = default;
  // Opens (creating 0600) `path` for appending. Throws std::system_error
  // naming the path when it cannot.
  explicit AuditLog(std::filesystem::path path);
  AuditLog(const AuditLog&) = delete;
  AuditLog& operator=(const AuditLog&) = delete;

  bool enabled() const { return !path_.empty(); }
  const std::filesystem::path& path() const { return path_; }

  // Appends `event` stamped with the current time. Never throws: a failed
  // write is logged and counted (failed_writes()).
  void emit(const AuditEvent& event);

  std::uint64_t failed_writes() const { return failed_.load(); }

  // The line emit() would write for `event` at `ts` (without the newline).
  static std::string render(const AuditEvent& event, const std::string& ts);

 private:
  void open_locked();
  bool reopen_if_rotated_locked();

  std::filesystem::path path_;
  std::mutex mu_;
  UniqueFd fd_;
  std::atomic<std::uint64_t> failed_{0};
};

// "2026-03-18T14:30:00.123456789Z": UTC with nanoseconds.
std::string audit_timestamp();

}  // namespace blockyard::telemetry
