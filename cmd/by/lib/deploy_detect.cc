#include "lib/deploy_detect.h"

#include "bundle/bundle_error.h"
#include "lib/cli_error.h"
#include "lib/deploy_name.h"
#include "lib/output.h"

namespace blockyard::cli {
namespace fs = std::filesystem;

namespace {

bool has_regular_file(const fs::path& dir, const char* name) {
  std::error_code ec;
  return fs::is_regular_file(dir / name, ec);
}

}  // namespace

DeployPlan detect_app(const fs::path& dir, const std::optional<std::string>& name,
                      const std::vector<bundle::Repository>& repositories) {
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
  plan.repositories = repositories;
  try {
    plan.deps = bundle::resolve_dependencies(plan.dir, repositories);
  } catch (const bundle::BundleError& e) {
    throw CliError(e.what());
  }
  if (!repositories.empty() && plan.deps.source == bundle::DependencySource::manifest)
    plan.warnings.push_back("--repositories is ignored: manifest.json names its own");
  plan.warnings.insert(plan.warnings.end(), plan.deps.warnings.begin(), plan.deps.warnings.end());
  return plan;
}

std::string mode_label(const DeployPlan& plan) {
  return "shiny (entrypoint: " + plan.entrypoint + ")";
}

std::string deps_label(const bundle::ResolvedDependencies& deps) {
  const std::string mode = deps.manifest.pinned() ? "pinned" : "unpinned";
  switch (deps.source) {
    case bundle::DependencySource::manifest:
      return "manifest.json (" + mode + ")";
    case bundle::DependencySource::renv_lock:
      return "pinned (renv.lock)";
    case bundle::DependencySource::description:
      return "unpinned (DESCRIPTION)";
    case bundle::DependencySource::scripts:
      break;
  }
  return "unpinned (scanned from the R scripts)";
}

std::string packages_label(const bundle::ResolvedDependencies& deps) {
  std::string out;
  for (const auto& name : bundle::requested_packages(deps.manifest))
    out += (out.empty() ? "" : ", ") + name;
  return out.empty() ? "(none)" : out;
}

std::string repository_label(const bundle::ResolvedDependencies& deps) {
  std::string out;
  for (const auto& r : deps.manifest.repositories)
    out += (out.empty() ? "" : ", ") + r.name + " (" + r.url + ")";
  return out.empty() ? "(server default)" : out;
}

std::string detected_block(const DeployPlan& plan) {
  return "Detected:\n" +
         format_key_values({{"Name", plan.name},
                            {"Mode", mode_label(plan)},
                            {"Deps", deps_label(plan.deps)},
                            {"Packages", packages_label(plan.deps)},
                            {"Repository", repository_label(plan.deps)}}) +
         "\n";
}

std::vector<bundle::Repository> repositories_option(const std::string& text) {
  try {
    return bundle::parse_repository_list(text);
  } catch (const bundle::BundleError& e) {
    throw CliError(std::string("--repositories: ") + e.what());
  }
}

std::map<std::string, std::string> generated_files(const DeployPlan& plan) {
  if (plan.repositories.empty() || plan.deps.source == bundle::DependencySource::manifest)
    return {};
  return {{"manifest.json", bundle::manifest_to_json(plan.deps.manifest)}};
}

}  // namespace blockyard::cli
