// What an unpacked (or about-to-be-packed) app directory contains.
#pragma once

#include <filesystem>
#include <string>

#include "bundle/bundle_error.h"

namespace blockyard::bundle {

// Requires a regular file app.R, or both ui.R and server.R, at the top level
// of `dir` (symlinks do not count). Otherwise throws
// BundleError("missing entrypoint: app.R (or ui.R and server.R)").
void check_entrypoint(const std::filesystem::path& dir);

// The dependency metadata the app carries, highest priority first:
// "manifest.json", "renv.lock" or "DESCRIPTION" (a regular file at the top
// level of `dir`), or "" for bare scripts.
std::string detect_dependency_metadata(const std::filesystem::path& dir);

}  // namespace blockyard::bundle
