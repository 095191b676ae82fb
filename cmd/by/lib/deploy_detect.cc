#include "lib/deploy_detect.h"

#include "lib/cli_error.h"
#include "lib/deploy_name.h"

namespace blockyard::cli {
namespace fs = std::filesystem;

namespace {

bool has_regular_file(const fs::path& dir, const char* name) {
  std::error_code ec;
  return fs::is_regular_file(dir / name, ec);
}

}  // namespace

DeployPlan detect_app(const fs::path& dir, const std::optional<std::string>& name) {
  std::error_code ec;
  DeployPlan plan;
  plan.dir = fs::absolute(dir, ec).lexically_normal();
  if (ec) throw CliError("resolve " + dir.string() + ": " + ec.message());
  if (!fs::exists(plan.dir, ec)) throw CliError("directory not found: " + dir.string());
  if (!fs::is_directory(plan.dir, ec)) throw CliError("not a directory: " + dir.string());

  // "foo/" normalises to "foo/" with an empty filename; take the parent's.
  fs::path base = plan.dir.filename().empty() ? plan.dir.parent_path() : plan.dir;
  plan.name = deploy_app_name(base.filename().string(), name, plan.warnings);

  const bool app_r = has_regular_file(plan.dir, "app.R");
  const bool split_app =
      has_regular_file(plan.dir, "ui.R") && has_regular_file(plan.dir, "server.R");
  plan.entrypoint = !app_r && split_app ? "ui.R/server.R" : "app.R";
  if (!app_r && !split_app) {
    plan.warnings.push_back("no app.R (or ui.R and server.R) in " + plan.dir.string() +
                            "; the server will reject this bundle");
  }

  const bool manifest = has_regular_file(plan.dir, "manifest.json");
  const bool renv_lock = has_regular_file(plan.dir, "renv.lock");
  const bool description = has_regular_file(plan.dir, "DESCRIPTION");
  if (manifest) {
    plan.deps = DependencySource::kManifest;
    if (renv_lock) plan.warnings.push_back("Using manifest.json; ignoring renv.lock");
    if (description) plan.warnings.push_back("Using manifest.json; ignoring DESCRIPTION");
  } else if (renv_lock) {
    plan.deps = DependencySource::kRenvLock;
    if (description) plan.warnings.push_back("Using renv.lock; ignoring DESCRIPTION");
  } else if (description) {
    plan.deps = DependencySource::kDescription;
  }
  return plan;
}

std::string mode_label(const DeployPlan& plan) {
  return "shiny (entrypoint: " + plan.entrypoint + ")";
}

std::string deps_label(DependencySource deps) {
  switch (deps) {
    case DependencySource::kManifest:
      return "manifest.json";
    case DependencySource::kRenvLock:
      return "pinned (renv.lock found)";
    case DependencySource::kDescription:
      return "unpinned (DESCRIPTION)";
    case DependencySource::kBareScripts:
      break;
  }
  return "unpinned (server scans)";
}

std::string repository_label(DependencySource deps) {
  if (deps == DependencySource::kManifest || deps == DependencySource::kRenvLock) {
    return "(from lockfile/manifest)";
  }
  return "(server default)";
}

}  // namespace blockyard::cli
