#include "lib/worker_end.h"

#include "lib/text.h"

namespace blockyard::cli {
namespace {

std::string text_of(const nlohmann::json& obj, const char* key) {
  auto it = obj.find(key);
  return it != obj.end() && it->is_string() ? it->get<std::string>() : std::string();
}

}  // namespace

std::optional<WorkerEnd> worker_end(const nlohmann::json& runtime, const std::string& worker_id) {
  const std::string name = "worker " + short_id(worker_id);
  const nlohmann::json* found = nullptr;
  if (runtime.is_object() && runtime.contains("workers") && runtime["workers"].is_array()) {
    for (const auto& worker : runtime["workers"]) {
      if (worker.is_object() && text_of(worker, "id") == worker_id) found = &worker;
    }
  }
  if (found == nullptr) return WorkerEnd{name + " is gone", false};
  const std::string status = text_of(*found, "status");
  if (status != "ended" && status != "failed") return std::nullopt;
  // end_cause: stopped (by the server: idle, redeploy, disable) | failed
  // (never became ready) | exited (on its own after it was ready).
  std::string cause = text_of(*found, "end_cause");
  if (cause.empty()) cause = status == "failed" ? "failed" : "stopped";
  const std::string reason = text_of(*found, "end_reason");
  std::string what = cause == "failed"   ? "failed to start"
                     : cause == "exited" ? "exited"
                                         : "was stopped";
  if (!reason.empty()) what += ": " + reason;
  return WorkerEnd{name + " " + what, cause != "stopped"};
}

}  // namespace blockyard::cli
