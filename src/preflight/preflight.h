// Preflight: the start-up checks of blockyard's process backend and its
// configuration, and the cached report served to admins.
//
// Start-up (server wiring):
//   preflight::SystemChecks checks(config, preflight::options_from_environment(env),
//                                  /*backend_checks=*/!config.server.skip_preflight);
//   preflight::Report report = checks.run_startup();
//   preflight::log_report(report);
//   if (preflight::blocks_startup(report))
//     throw std::runtime_error(preflight::startup_failure_message(report));
#pragma once

#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "core/config.h"
#include "preflight/check_context.h"
#include "preflight/registry.h"
#include "preflight/report.h"

namespace blockyard::preflight {

// The configuration checks (static), in order.
std::vector<Check> config_checks();
// The process backend's checks (dynamic), in execution order.
std::vector<Check> backend_checks();

// Any error stops start-up.
bool blocks_startup(const Report& report);
// "preflight failed: <check>: <message>; ..." for each error.
std::string startup_failure_message(const Report& report);
// Logs each non-ok result as "preflight: <message>" with its check name, at
// error / warn / info level.
void log_report(const Report& report);

// Holds the latest report. Thread-safe: run_* serialise on an internal
// mutex (a second caller waits for the first run and then runs its own);
// latest() never waits for a run.
class SystemChecks {
 public:
  SystemChecks(Config config, PreflightOptions options, bool backend_checks_enabled);
  SystemChecks(const SystemChecks&) = delete;
  SystemChecks& operator=(const SystemChecks&) = delete;

  // Runs the config checks and (when enabled) the backend checks; keeps the
  // config results as the static part. Returns results in execution order.
  Report run_startup();
  // Re-runs the dynamic (backend) checks and merges them with the static
  // results from start-up. Returns and caches the merged report.
  Report rerun_dynamic();
  // Latest report sorted by severity then name; ran_at empty if none yet.
  Report latest() const;

 private:
  std::shared_ptr<const CheckContext> context_;
  bool backend_enabled_;
  std::mutex run_mutex_;
  mutable std::mutex cache_mutex_;
  std::vector<CheckResult> static_results_;
  Report latest_;
};

}  // namespace blockyard::preflight
