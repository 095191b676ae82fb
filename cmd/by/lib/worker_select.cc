#include "lib/worker_select.h"

namespace blockyard::cli {
namespace {

std::string string_or_empty(const nlohmann::json& obj, const char* key) {
  auto it = obj.find(key);
  return it != obj.end() && it->is_string() ? it->get<std::string>() : std::string();
}

}  // namespace

std::optional<WorkerChoice> select_worker(const nlohmann::json& runtime) {
  if (!runtime.is_object()) return std::nullopt;
  auto workers = runtime.find("workers");
  if (workers == runtime.end() || !workers->is_array()) return std::nullopt;

  std::optional<std::pair<std::string, std::string>> newest_active;  // started_at, id
  std::optional<std::pair<std::string, std::string>> newest_any;
  size_t active = 0;
  for (const auto& worker : *workers) {
    if (!worker.is_object()) continue;
    std::pair<std::string, std::string> key{string_or_empty(worker, "started_at"),
                                            string_or_empty(worker, "id")};
    if (key.second.empty()) continue;
    if (!newest_any || key.first > newest_any->first) newest_any = key;
    if (string_or_empty(worker, "status") == "active") {
      ++active;
      if (!newest_active || key.first > newest_active->first) newest_active = key;
    }
  }
  const auto& chosen = newest_active ? newest_active : newest_any;
  if (!chosen) return std::nullopt;
  return WorkerChoice{chosen->second, active};
}

}  // namespace blockyard::cli
