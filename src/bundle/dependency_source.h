// Which packages an app needs, read from what it carries, highest priority
// first: manifest.json > renv.lock > DESCRIPTION > its R scripts (scanned).
// `by init`, `by deploy` and the server all call resolve_dependencies(), so
// the CLI shows exactly the list the server will restore.
#pragma once

#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

#include "bundle/manifest.h"

namespace blockyard::bundle {

enum class DependencySource { manifest, renv_lock, description, scripts };

// "manifest.json", "renv.lock", "DESCRIPTION", "scripts".
std::string_view dependency_source_name(DependencySource source);

struct ResolvedDependencies {
  DependencySource source = DependencySource::scripts;
  Manifest manifest;                  // always set: the app's own, or one derived from the source
  std::vector<std::string> warnings;  // "Using manifest.json; ignoring renv.lock", ...
};

// Reads `dir` (an app directory). `repositories`, when non-empty, replace
// the repositories of a derived manifest (renv.lock keeps its own unless
// given; an app's manifest.json is never changed). Derived manifests carry
// the SHA-256 of every non-hidden regular file outside renv/.
// Throws BundleError naming the file on an unreadable or invalid
// manifest.json, renv.lock or DESCRIPTION.
ResolvedDependencies resolve_dependencies(const std::filesystem::path& dir,
                                          const std::vector<Repository>& repositories = {});

// A pinned manifest from renv.lock text (lockfile versions 1 and 2): R
// version, repositories, Bioconductor version and package records (other
// fields dropped; renv's own record too, apps do not need renv to run).
// Throws BundleError("renv.lock: ...").
Manifest manifest_from_renv_lock(std::string_view json);

// An unpinned manifest from DESCRIPTION text, keeping Depends, Imports,
// LinkingTo and Remotes (not Suggests). Throws BundleError("DESCRIPTION: ...").
Manifest manifest_from_description(std::string_view dcf);

// The packages a manifest asks for by name, sorted: pinned records, or the
// packages of the unpinned dependency fields (base packages left out).
std::vector<std::string> requested_packages(const Manifest& manifest);

// SHA-256 of every regular file under `dir` by relative path, skipping
// hidden files and directories, renv.lock and renv/.
std::map<std::string, std::string> file_checksums(const std::filesystem::path& dir);

}  // namespace blockyard::bundle
