// r_binary, rig_versions, shiny_package.
#include <algorithm>

#include "preflight/checks.h"
#include "preflight/registry.h"
#include "preflight/sandbox_probe.h"

namespace blockyard::preflight {

namespace {

using namespace std::chrono_literals;

// Rscript beside the configured R binary (how workers are started).
std::optional<std::filesystem::path> rscript_for(const CheckContext& context) {
  auto r = find_executable(context.process().r_path);
  if (!r) return std::nullopt;
  return find_executable(r->parent_path() / "Rscript");
}

std::string failure_text(const CommandResult& run, std::chrono::seconds timeout) {
  if (!run.error.empty()) return run.error;
  if (run.timed_out) return "timed out after " + std::to_string(timeout.count()) + "s";
  return "exit " + std::to_string(run.exit_code) + (run.output.empty() ? "" : ": " + run.output);
}

}  // namespace

CheckResult check_r_binary(const CheckContext& context) {
  const std::string name = "r_binary";
  std::string configured = context.process().r_path;
  auto r = find_executable(configured);
  if (!r) {
    return result(name, kError,
                  "R not found at \"" + configured +
                      "\": install R (Debian/Ubuntu: apt-get install r-base-core) or set "
                      "[process] r_path to the R binary (Rscript must be beside it)");
  }
  auto rscript = rscript_for(context);
  if (!rscript) {
    return result(name, kError,
                  "Rscript not found beside " + r->string() +
                      ": workers are started with Rscript from the same directory; fix the R "
                      "installation or [process] r_path");
  }
  constexpr auto timeout = 15s;
  auto run = run_command({.argv = {rscript->string(), "--version"}}, timeout);
  if (!run.succeeded()) {
    return result(name, kError,
                  rscript->string() + " --version failed (" + failure_text(run, timeout) +
                      "); fix the R installation or [process] r_path");
  }
  return result(name, kOk, "R binary found: " + run.output + " (" + rscript->string() + ")");
}

CheckResult check_rig_versions(const CheckContext&) {
  const std::string name = "rig_versions";
  std::vector<std::string> versions;
  std::error_code ec;
  for (const auto& entry : std::filesystem::directory_iterator("/opt/R", ec)) {
    if (find_executable(entry.path() / "bin" / "R")) {
      versions.push_back(entry.path().filename().string());
    }
  }
  if (versions.empty()) return result(name, kInfo, "no rig-managed R versions found in /opt/R");
  std::sort(versions.begin(), versions.end());
  std::string list;
  for (const auto& v : versions) list += (list.empty() ? "" : ", ") + v;
  return result(name, kOk, "rig-managed R versions: " + list);
}

CheckResult check_shiny_package(const CheckContext& context) {
  const std::string name = "shiny_package";
  auto rscript = rscript_for(context);
  if (!rscript) return result(name, kInfo, "not checked: R is missing (see r_binary)");
  constexpr auto timeout = 30s;
  auto run = run_command({.argv = {rscript->string(), "--vanilla", "-e",
                                   "suppressPackageStartupMessages(library(shiny)); "
                                   "cat(as.character(packageVersion('shiny')))"}},
                         timeout);
  if (!run.succeeded()) {
    return result(name, kError,
                  "the R package shiny cannot be loaded by " + rscript->string() + " (" +
                      failure_text(run, timeout) +
                      "): install it (Debian/Ubuntu: apt-get install r-cran-shiny; or in R: "
                      "install.packages(\"shiny\") into a site library)");
  }
  // The version is the last line (startup noise may precede it).
  std::string version = run.output.substr(run.output.find_last_of('\n') + 1);
  return result(name, kOk, "shiny " + version + " is installed");
}

}  // namespace blockyard::preflight
