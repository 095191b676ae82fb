#include "preflight/report.h"

#include <algorithm>
#include <chrono>
#include <ctime>

namespace blockyard::preflight {

Summary Report::summary() const {
  Summary s;
  for (const auto& r : results) {
    if (r.severity == kError) {
      ++s.errors;
    } else if (r.severity == kWarning) {
      ++s.warnings;
    } else if (r.severity == kInfo) {
      ++s.info;
    } else {
      ++s.ok;
    }
  }
  return s;
}

int severity_rank(std::string_view severity) {
  if (severity == kError) return 3;
  if (severity == kWarning) return 2;
  if (severity == kInfo) return 1;
  return 0;
}

void sort_by_severity(std::vector<CheckResult>& results) {
  std::stable_sort(results.begin(), results.end(), [](const auto& a, const auto& b) {
    int ra = severity_rank(a.severity), rb = severity_rank(b.severity);
    return ra != rb ? ra > rb : a.name < b.name;
  });
}

nlohmann::json to_json(const CheckResult& result) {
  return {{"name", result.name},
          {"severity", result.severity},
          {"message", result.message},
          {"category", result.category}};
}

nlohmann::json to_json(const Report& report) {
  auto results = nlohmann::json::array();
  for (const auto& r : report.results) results.push_back(to_json(r));
  Summary s = report.summary();
  return {{"ran_at", report.ran_at},
          {"results", std::move(results)},
          {"summary",
           {{"errors", s.errors}, {"warnings", s.warnings}, {"info", s.info}, {"ok", s.ok}}}};
}

std::string utc_now_rfc3339() {
  std::time_t now = std::chrono::system_clock::to_time_t(std::chrono::system_clock::now());
  std::tm tm{};
  ::gmtime_r(&now, &tm);
  char text[32];
  std::strftime(text, sizeof text, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return text;
}

}  // namespace blockyard::preflight
