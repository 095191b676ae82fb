// Preflight results and reports, and their JSON form (the shape served by
// GET /api/v1/system/checks):
//   {"ran_at": RFC 3339 UTC, "results": [{name, severity, message, category}],
//    "summary": {"errors", "warnings", "info", "ok"}}
// Plain values; no thread-safety concerns of their own.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

namespace blockyard::preflight {

inline constexpr std::string_view kOk = "ok";
inline constexpr std::string_view kInfo = "info";
inline constexpr std::string_view kWarning = "warning";
inline constexpr std::string_view kError = "error";

struct CheckResult {
  std::string name;      // e.g. "bwrap_available", "worker_egress"
  std::string severity;  // ok | info | warning | error
  std::string message;   // says what was found and, when not ok, what to do
  std::string category;  // process | redis | config
};

struct Summary {
  int errors = 0;
  int warnings = 0;
  int info = 0;
  int ok = 0;
};

struct Report {
  std::string ran_at;  // RFC 3339 UTC; empty for "never ran"
  std::vector<CheckResult> results;

  Summary summary() const;
  bool has_errors() const { return summary().errors > 0; }
};

// error 3, warning 2, info 1, ok (and anything else) 0.
int severity_rank(std::string_view severity);

// Most severe first, then by name (the admin page's order).
void sort_by_severity(std::vector<CheckResult>& results);

nlohmann::json to_json(const CheckResult& result);
nlohmann::json to_json(const Report& report);

// The current time as RFC 3339 UTC with seconds, e.g. "2024-05-01T12:00:00Z".
std::string utc_now_rfc3339();

}  // namespace blockyard::preflight
