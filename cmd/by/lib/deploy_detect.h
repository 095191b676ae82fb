// What `by deploy` detects about an app directory before uploading it: the
// app name, the Shiny entrypoint and how the server will resolve dependencies.
// Reads only directory entries (no file contents). Thread-compatible.
#pragma once

#include <filesystem>
#include <optional>
#include <string>
#include <vector>

namespace blockyard::cli {

enum class DependencySource {
  kManifest,     // manifest.json present: the server uses it as is
  kRenvLock,     // renv.lock present: pinned versions
  kDescription,  // DESCRIPTION present: unpinned, from its Imports/Depends
  kBareScripts,  // nothing: the server scans the R scripts
};

struct DeployPlan {
  std::filesystem::path dir;  // absolute
  std::string name;           // --name, else from the directory's name (deploy_name.h)
  std::string entrypoint;     // "app.R", or "ui.R/server.R" for a two-file app
  DependencySource deps = DependencySource::kBareScripts;
  std::vector<std::string> warnings;  // without the "Warning: " prefix
};

// Inspects `dir`. Throws CliError when it is not an existing directory, or
// the app name is invalid (--name) or cannot be derived.
DeployPlan detect_app(const std::filesystem::path& dir, const std::optional<std::string>& name);

// "shiny (entrypoint: app.R)".
std::string mode_label(const DeployPlan& plan);

// "manifest.json", "pinned (renv.lock found)", "unpinned (DESCRIPTION)",
// "unpinned (server scans)".
std::string deps_label(DependencySource deps);

// "(from lockfile/manifest)" for pinned sources, else "(server default)".
std::string repository_label(DependencySource deps);

}  // namespace blockyard::cli
