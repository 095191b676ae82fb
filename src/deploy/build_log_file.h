// BuildLogFile: copies a build's task log (a LineLog) to a file line by line
// as it is written, so the log of a bundle survives a restart, a crash in
// the middle of the build included, and stays readable after the task is
// gone (GET /apps/{id}/bundles/{bundle}/logs, `by logs --bundle`).
//
// One thread per build follows the log; destroying the object copies what
// is left and joins it.
#pragma once

#include <atomic>
#include <filesystem>
#include <memory>
#include <thread>

#include "core/line_log.h"

namespace blockyard::deploy {

class BuildLogFile {
 public:
  // Starts copying `log` to `file` (created or truncated, mode 0600).
  // Throws std::runtime_error when the file cannot be created.
  BuildLogFile(std::shared_ptr<LineLog> log, const std::filesystem::path& file);
  BuildLogFile(const BuildLogFile&) = delete;
  BuildLogFile& operator=(const BuildLogFile&) = delete;
  ~BuildLogFile();

 private:
  void run();

  std::shared_ptr<LineLog> log_;
  int fd_ = -1;
  std::atomic<bool> stop_{false};
  std::thread thread_;
};

}  // namespace blockyard::deploy
