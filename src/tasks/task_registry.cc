#include "tasks/task_registry.h"

#include "core/crypto.h"
#include "store/store.h"

namespace blockyard::tasks {

Task TaskRegistry::create(const std::string& app_id) {
  Task t;
  t.id = uuid_v4();
  t.app_id = app_id;
  t.created_at = store::now_rfc3339();
  std::lock_guard lock(mu_);
  tasks_[t.id] = t;
  return t;
}

std::optional<Task> TaskRegistry::get(const std::string& id) const {
  std::lock_guard lock(mu_);
  auto it = tasks_.find(id);
  if (it == tasks_.end()) return std::nullopt;
  return it->second;
}

void TaskRegistry::finish(const std::string& id, bool success) {
  std::shared_ptr<LineLog> log;
  {
    std::lock_guard lock(mu_);
    auto it = tasks_.find(id);
    if (it == tasks_.end()) return;
    it->second.status = success ? "completed" : "failed";
    log = it->second.log;
  }
  log->close();
}

}  // namespace blockyard::tasks
