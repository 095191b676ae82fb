// What `by deploy` and `by init` detect about an app directory: the app
// name, the Shiny entrypoint, and the packages it needs — read with the
// server's own code (bundle::resolve_dependencies), so the CLI shows exactly
// the list the server will restore: manifest.json > renv.lock > DESCRIPTION
// > packages used by its R scripts. Thread-compatible.
#pragma once

#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "bundle/dependency_source.h"

namespace blockyard::cli {

struct DeployPlan {
  std::filesystem::path dir;  // absolute
  std::string name;           // --name, else from the directory's name (deploy_name.h)
  std::string entrypoint;     // "app.R", or "ui.R/server.R" for a two-file app
  bundle::ResolvedDependencies deps;
  std::vector<bundle::Repository> repositories;  // --repositories
  std::vector<std::string> warnings;             // without the "Warning: " prefix
};

// Inspects `dir`. `repositories` (from --repositories) replace the
// repositories of a manifest derived from renv.lock, DESCRIPTION or the
// scripts. Throws CliError when `dir` is not an existing directory, the name
// cannot be derived, or a manifest.json / renv.lock / DESCRIPTION is invalid.
DeployPlan detect_app(const std::filesystem::path& dir, const std::optional<std::string>& name,
                      const std::vector<bundle::Repository>& repositories = {});

// "shiny (entrypoint: app.R)".
std::string mode_label(const DeployPlan& plan);

// "manifest.json (pinned)", "pinned (renv.lock)", "unpinned (DESCRIPTION)",
// "unpinned (scanned from the R scripts)".
std::string deps_label(const bundle::ResolvedDependencies& deps);

// The packages the app names ("shiny, DT"), or "(none)".
std::string packages_label(const bundle::ResolvedDependencies& deps);

// "Name (URL), ..." of the manifest's repositories, else "(server default)".
std::string repository_label(const bundle::ResolvedDependencies& deps);

// The "Detected:" block both commands print: name, mode, dependencies,
// packages, repositories.
std::string detected_block(const DeployPlan& plan);

// --repositories: "Name=URL" or URLs, comma-separated; blank = none.
// Throws CliError naming a bad entry.
std::vector<bundle::Repository> repositories_option(const std::string& text);

// Top-level files to upload besides the directory's own: the generated
// manifest.json when --repositories must reach the server and the app has
// no manifest.json of its own (the app's directory is not changed).
std::map<std::string, std::string> generated_files(const DeployPlan& plan);

}  // namespace blockyard::cli
