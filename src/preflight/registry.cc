#include "preflight/registry.h"

#include <future>
#include <thread>

#include "core/config.h"

namespace blockyard::preflight {

CheckResult result(const std::string& name, std::string_view severity, std::string message,
                   const std::string& category) {
  return CheckResult{name, std::string(severity), std::move(message), category};
}

namespace {

CheckResult run_one(const Check& check, const std::shared_ptr<const CheckContext>& context) {
  auto promise = std::make_shared<std::promise<CheckResult>>();
  auto future = promise->get_future();
  // Detached so an overrunning check cannot hold up start-up; it owns copies
  // of everything it touches.
  std::thread([check, context, promise] {
    try {
      promise->set_value(check.run(*context));
    } catch (const std::exception& e) {
      promise->set_value(
          result(check.name, kError, "check failed unexpectedly: " + std::string(e.what())));
    }
  }).detach();
  auto timeout = context->options.check_timeout;
  if (future.wait_for(timeout) != std::future_status::ready) {
    return result(check.name, kError,
                  "check did not finish within " + format_duration(timeout) +
                      "; the host may be overloaded or a probe hangs",
                  check.category);
  }
  CheckResult r = future.get();
  if (r.name.empty()) r.name = check.name;
  if (!check.category.empty()) r.category = check.category;
  return r;
}

}  // namespace

Report run_checks(const std::vector<Check>& checks, std::shared_ptr<const CheckContext> context) {
  Report report;
  report.ran_at = utc_now_rfc3339();
  for (const auto& check : checks) report.results.push_back(run_one(check, context));
  return report;
}

}  // namespace blockyard::preflight
