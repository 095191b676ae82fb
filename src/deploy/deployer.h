// Deployer: a bundle's life after its upload — the background build
// (dependency restore, then activation), rollback, deletion, retention, and
// the housekeeping that purges soft-deleted apps and evicts unused packages.
//
// A build: status "building"; the app's dependencies (resolved at upload,
// dependency_source.h) restored into the package store in build sandboxes
// (restore.h); the bundle's runtime (R, library) written beside it; then
// the bundle is activated — existing sessions keep their workers, new ones
// start on the new bundle — and bundle_retention applied. Any failure marks
// the bundle failed with the reason, and the active bundle keeps serving.
// Every line goes to the task log (followed by `by deploy --wait`) and to
// {bundle}.log, which outlives the task and the server.
//
// Thread safety: every method may be called from any thread; builds run
// on the caller-provided executor, several at once.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <filesystem>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>

#include "backend/backend.h"
#include "bundle/dependency_source.h"
#include "core/config.h"
#include "deploy/bundle_files.h"
#include "restore/package_store.h"
#include "restore/restore_inputs.h"
#include "store/store.h"
#include "tasks/task_registry.h"
#include "telemetry/audit_log.h"

namespace blockyard::deploy {

struct DeployerOptions {
  std::filesystem::path bundle_root;                   // storage.bundle_server_path
  int bundle_retention = 50;                           // storage.bundle_retention
  std::chrono::milliseconds soft_delete_retention{0};  // storage.soft_delete_retention
  std::chrono::milliseconds store_retention{0};        // storage.store_retention
  restore::RepositorySettings repositories;            // [packages]
  std::filesystem::path server_r = "/usr/bin/R";       // process.r_path
  std::filesystem::path r_versions_path = "/opt/R";    // packages.r_versions_path
  std::chrono::milliseconds build_timeout = std::chrono::minutes(30);
};

// The options the server's configuration sets ([storage], [packages],
// [process] r_path). Throws ConfigError on a malformed repository entry.
DeployerOptions deployer_options(const Config& config);

// What the deployer needs from the data plane.
struct DeployerHooks {
  // A new bundle is active: new sessions go to it, old workers drain.
  std::function<void(const std::string& app_id)> drain_app;
  // Stop every worker of the app now (rollback, delete).
  std::function<void(const std::string& app_id)> stop_app;
  // True while a live worker runs this bundle (retention spares it).
  std::function<bool(const std::string& app_id, const std::string& bundle_id)> bundle_in_use;
  // Where each build's outcome is recorded as a "bundle.build" line
  // ([audit]), since the upload's own line only says it was accepted.
  // Null: not audited.
  telemetry::AuditLog* audit = nullptr;
};

class Deployer {
 public:
  using Executor = std::function<void(std::function<void()>)>;

  // Creates the package store below bundle_root and clears what builds
  // interrupted by a crash left in it. Throws std::runtime_error.
  Deployer(DeployerOptions options, store::Store& store, backend::Backend& backend,
           tasks::TaskRegistry& tasks, DeployerHooks hooks, Executor run_async);
  Deployer(const Deployer&) = delete;
  Deployer& operator=(const Deployer&) = delete;
  ~Deployer();  // stops housekeeping; cancel_builds() first at shutdown

  const DeployerOptions& options() const { return options_; }
  restore::PackageStore& package_store() { return *package_store_; }
  BundleFiles files(const std::string& app_id, const std::string& bundle_id) const {
    return bundle_files(options_.bundle_root, app_id, bundle_id);
  }

  // Queues the build of an uploaded, unpacked, pending bundle. Throws when
  // the executor refuses the job (the caller marks the bundle failed).
  void start_build(const tasks::Task& task, const std::string& app_id, const std::string& bundle_id,
                   std::size_t files, bundle::ResolvedDependencies dependencies);

  // Makes an earlier ready bundle active again and stops the app's workers
  // so every session restarts on it. Throws ApiError (404 bundle not found,
  // 400 not ready / already active). Returns the updated app.
  store::App rollback(const store::App& app, const std::string& bundle_id,
                      const std::optional<std::string>& deployed_by);

  // Deletes the bundles beyond bundle_retention: never the active one, one
  // still building, or one a live worker runs. Returns how many went.
  int enforce_retention(const std::string& app_id);

  // Removes a bundle's files, library and row.
  void delete_bundle(const std::string& app_id, const std::string& bundle_id);

  // Hard delete: stops the app's workers, removes every bundle (files,
  // libraries) and the app's rows.
  void purge_app(const store::App& app);

  // One housekeeping pass: purges apps soft-deleted longer than
  // soft_delete_retention and evicts package-store entries unused for
  // store_retention (each only when its retention is > 0).
  struct Sweep {
    int apps_purged = 0;
    int packages_evicted = 0;
  };
  Sweep sweep();
  // Runs sweep() in the background: every min(1 h, soft_delete_retention)
  // and min(24 h, store_retention / 2). No-op when both are 0.
  void start_housekeeping();

  // Shutdown: running builds stop at once and their bundles fail with
  // "the server shut down during the build"; no new build starts.
  void cancel_builds();

 private:
  void build(const tasks::Task& task, const std::string& app_id, const std::string& bundle_id,
             std::size_t files, const bundle::ResolvedDependencies& dependencies);
  void housekeeping_loop();
  // Audits a finished build; `failure` is empty when it succeeded.
  void audit_build(const std::string& app_id, const std::string& bundle_id,
                   const std::string& failure);

  const DeployerOptions options_;
  store::Store& store_;
  backend::Backend& backend_;
  tasks::TaskRegistry& tasks_;
  const DeployerHooks hooks_;
  const Executor run_async_;
  std::unique_ptr<restore::PackageStore> package_store_;
  std::shared_ptr<std::atomic<bool>> cancelled_ = std::make_shared<std::atomic<bool>>(false);

  std::mutex housekeeping_mu_;
  std::condition_variable housekeeping_cv_;
  bool stopping_ = false;
  std::thread housekeeper_;
};

}  // namespace blockyard::deploy
