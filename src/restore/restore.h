// Dependency restore: makes the packages a bundle needs available to its
// workers, each in a build sandbox (Backend::build: the worker sandbox with
// network access kept):
//
//  1. resolve: an R script reads the app's requirements and the
//     repositories' indexes and plans every package: the server's own R
//     library where it has a suitable version (nothing is fetched then), else
//     a repository (current or archived version) or a git commit;
//  2. install: each planned package missing from the package store is
//     installed by `R CMD INSTALL` in a sandbox of its own, with only its
//     dependencies' store entries on its library path, into a staging
//     directory, then moved into the store under the entry's lock;
//  3. assemble: the bundle's library, links to the store entries it uses.
//
// Why this installer: Debian ships neither pak nor renv, and remotes (Debian
// r-cran-remotes) installs a whole dependency tree into one library, which
// cannot give one store entry per package. R's own available.packages()
// reads the repositories' indexes and R CMD INSTALL installs one source
// package; the rest (archived versions, git commits, the store) is ours.
//
// Thread safety: restores of different bundles may run concurrently; the
// store's per-entry locks keep their installs of one package apart.
#pragma once

#include <atomic>
#include <chrono>
#include <filesystem>
#include <memory>
#include <stdexcept>
#include <string>

#include "backend/backend.h"
#include "bundle/bundle_runtime.h"
#include "bundle/manifest.h"
#include "core/line_log.h"
#include "restore/package_store.h"
#include "restore/restore_inputs.h"
#include "restore/restore_plan.h"

namespace blockyard::restore {

// A restore that failed for a reason the publisher should read ("package
// foo is not available from any repository", a compile error with the last
// lines of its log). The message is complete and user-facing.
class RestoreError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// Where the store is mounted inside build sandboxes and workers.
inline constexpr const char* kStoreMount = bundle::kPackageStoreMount;

struct RestoreRequest {
  std::string build_id;  // names the sandboxes and the library: the bundle id
  std::string app_id;
  bundle::Manifest manifest;
  RepositorySettings repositories;
  std::filesystem::path rscript;  // Rscript of the chosen R ("Rscript" = the backend's)
  std::chrono::milliseconds timeout{std::chrono::minutes(30)};  // the whole restore
  // Set to true to stop the restore (server shutdown); checked between and
  // during jobs.
  std::shared_ptr<const std::atomic<bool>> cancel;
  std::string memory_limit;  // per job; "" = backend default
};

struct RestoreResult {
  RestorePlan plan;
  int from_host = 0;  // packages the server's R library provides
  int reused = 0;     // already in the store
  int installed = 0;  // installed now
  // Name of the assembled library (PackageStore::library_path), "" when
  // every package came from the server's library.
  std::string library;
};

// Runs the three steps, writing progress and every job's output to `log`.
// Throws RestoreError with the publisher-facing reason on failure (nothing
// half-installed is left in the store), std::runtime_error on internal
// failures.
RestoreResult restore_dependencies(const RestoreRequest& request, backend::Backend& backend,
                                   const PackageStore& store, std::shared_ptr<LineLog> log);

// The R scripts run in the sandboxes (src/restore/r/*.R, embedded).
std::string_view resolve_script();
std::string_view install_script();

}  // namespace blockyard::restore
