// The check registry: named checks run in order, each bounded by a timeout.
// All checks always run, even after an earlier one failed. A check that
// throws is reported as an error naming the exception; one that overruns
// the timeout is reported as an error and left to finish on its own thread
// (it holds the shared context; subprocesses it starts carry their own
// deadlines), so run_checks() returns within about n * timeout.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "preflight/check_context.h"
#include "preflight/report.h"

namespace blockyard::preflight {

struct Check {
  std::string name;
  std::string category;  // copied into results that leave it empty
  // Dynamic checks probe the host and are re-run on request; static ones
  // depend only on the configuration and are run at start-up.
  bool dynamic = true;
  std::function<CheckResult(const CheckContext&)> run;
};

// Runs `checks` in order. Thread-safe (no shared mutable state).
Report run_checks(const std::vector<Check>& checks, std::shared_ptr<const CheckContext> context);

// Shorthand for building a result of `check`.
CheckResult result(const std::string& name, std::string_view severity, std::string message,
                   const std::string& category = "process");

}  // namespace blockyard::preflight
