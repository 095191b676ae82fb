// TaskRegistry: in-memory long-running operations (bundle builds) with a
// followable log. Tasks live for the server's lifetime.
#pragma once

#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>

#include "core/line_log.h"

namespace blockyard::tasks {

struct Task {
  std::string id;
  std::string app_id;      // owning app, for access checks ("" = admin task)
  std::string status = "running";  // running | completed | failed
  std::string created_at;
  std::shared_ptr<LineLog> log = std::make_shared<LineLog>(50000);
};

class TaskRegistry {
 public:
  // Creates a running task and returns a copy of it (the log is shared).
  Task create(const std::string& app_id);
  std::optional<Task> get(const std::string& id) const;
  // Sets completed/failed and closes the log so followers finish.
  void finish(const std::string& id, bool success);

 private:
  mutable std::mutex mu_;
  std::map<std::string, Task> tasks_;
};

}  // namespace blockyard::tasks
