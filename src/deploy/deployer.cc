#include "deploy/deployer.h"

#include <spdlog/spdlog.h>

#include <fstream>

#include "bundle/bundle_error.h"
#include "bundle/bundle_runtime.h"
#include "core/error.h"
#include "deploy/build_log_file.h"
#include "restore/r_installations.h"
#include "restore/restore.h"
#include "store/timestamp.h"

namespace blockyard::deploy {

namespace {

namespace fs = std::filesystem;
using std::chrono::milliseconds;

std::string build_mode(const bundle::ResolvedDependencies& deps) {
  if (deps.manifest.pinned()) return "pinned";
  if (deps.source == bundle::DependencySource::scripts) return "auto-detected from scripts";
  return "unpinned";
}

std::string join(const std::vector<std::string>& items) {
  std::string out;
  for (const auto& i : items) out += (out.empty() ? "" : ", ") + i;
  return out;
}

bundle::BundleRuntime runtime_of(const restore::RestoreResult& result, const fs::path& r_path,
                                 const restore::PackageStore& store) {
  bundle::BundleRuntime rt;
  rt.r_path = r_path;
  rt.r_version = result.plan.r_version;
  rt.platform = result.plan.platform;
  if (!result.library.empty()) {
    rt.store_root = fs::absolute(store.root());
    rt.library = result.library;
  }
  for (const auto& p : result.plan.packages) {
    std::string source = p.origin == "host"  ? p.lib_path
                         : p.origin == "git" ? p.git_url + "@" + p.git_sha
                                             : p.repository_url;
    rt.packages.push_back({p.package, p.version, p.origin, source, p.requested});
  }
  return rt;
}

void write_text(const fs::path& file, const std::string& text) {
  std::ofstream out(file, std::ios::binary | std::ios::trunc);
  out << text;
  if (!out) throw std::runtime_error("cannot write " + file.string());
}

std::vector<bundle::Repository> repository_list(const char* key,
                                                const std::vector<std::string>& entries) {
  std::vector<bundle::Repository> out;
  for (const auto& entry : entries) {
    try {
      out.push_back(bundle::parse_repository(entry, out.size() + 1));
    } catch (const std::exception& e) {
      throw ConfigError(std::string("config: ") + key + ": " + e.what());
    }
  }
  return out;
}

}  // namespace

DeployerOptions deployer_options(const Config& config) {
  DeployerOptions o;
  o.bundle_root = config.storage.bundle_server_path;
  o.bundle_retention = config.storage.bundle_retention;
  o.soft_delete_retention = config.storage.soft_delete_retention;
  o.store_retention = config.storage.store_retention;
  o.repositories.defaults = repository_list("packages.repositories", config.packages.repositories);
  o.repositories.overrides =
      repository_list("packages.override_repositories", config.packages.override_repositories);
  o.repositories.bioconductor_url = config.packages.bioconductor_url;
  o.server_r = config.process.value_or(ProcessConfig{}).r_path;
  o.r_versions_path = config.packages.r_versions_path;
  o.build_timeout = config.packages.build_timeout;
  return o;
}

Deployer::Deployer(DeployerOptions options, store::Store& store, backend::Backend& backend,
                   tasks::TaskRegistry& tasks, DeployerHooks hooks, Executor run_async)
    : options_(std::move(options)),
      store_(store),
      backend_(backend),
      tasks_(tasks),
      hooks_(std::move(hooks)),
      run_async_(std::move(run_async)),
      package_store_(
          std::make_unique<restore::PackageStore>(package_store_root(options_.bundle_root))) {
  package_store_->remove_interrupted_work();
}

Deployer::~Deployer() {
  {
    std::lock_guard lock(housekeeping_mu_);
    stopping_ = true;
  }
  housekeeping_cv_.notify_all();
  if (housekeeper_.joinable()) housekeeper_.join();
}

void Deployer::start_build(const tasks::Task& task, const std::string& app_id,
                           const std::string& bundle_id, std::size_t files,
                           bundle::ResolvedDependencies dependencies) {
  run_async_([this, task, app_id, bundle_id, files, deps = std::move(dependencies)] {
    build(task, app_id, bundle_id, files, deps);
  });
}

void Deployer::build(const tasks::Task& task, const std::string& app_id,
                     const std::string& bundle_id, std::size_t file_count,
                     const bundle::ResolvedDependencies& deps) {
  LineLog& log = *task.log;
  const BundleFiles f = files(app_id, bundle_id);
  std::unique_ptr<BuildLogFile> log_file;
  try {
    log_file = std::make_unique<BuildLogFile>(task.log, f.log);
  } catch (const std::exception& e) {
    spdlog::warn("bundle {}: {}", bundle_id, e.what());
  }
  std::string library;
  try {
    if (cancelled_->load())
      throw restore::RestoreError("the server shut down before the build started");
    store_.set_bundle_status(bundle_id, "building", std::nullopt);
    log.append("Bundle unpacked (" + std::to_string(file_count) + " files).");
    for (const auto& w : deps.warnings) log.append("WARNING: " + w);
    log.append("Dependencies from " + std::string(bundle::dependency_source_name(deps.source)) +
               ", build mode: " + build_mode(deps));
    const auto requested = bundle::requested_packages(deps.manifest);
    log.append("Requested packages: " + (requested.empty() ? "(none)" : join(requested)));

    const restore::RChoice r =
        restore::choose_r(deps.manifest.r_version, options_.server_r, options_.r_versions_path);
    if (!r.note.empty()) log.append(r.note);
    const bool own_r = r.r_path != options_.server_r;

    restore::RestoreRequest request;
    request.build_id = bundle_id;
    request.app_id = app_id;
    request.manifest = deps.manifest;
    request.repositories = options_.repositories;
    request.rscript = own_r ? r.r_path.parent_path() / "Rscript" : fs::path("Rscript");
    request.timeout = options_.build_timeout;
    request.cancel = cancelled_;
    const auto result = restore::restore_dependencies(request, backend_, *package_store_, task.log);
    library = result.library;

    bundle::write_bundle_runtime(
        f.unpacked, runtime_of(result, own_r ? r.r_path : fs::path(), *package_store_));
    write_text(f.manifest, bundle::manifest_to_json(deps.manifest));

    log.append("Build succeeded. Activating bundle...");
    store_.activate_bundle(app_id, bundle_id, store::now_rfc3339());
    // After activation, so that sessions opened from now on get the new
    // bundle while existing ones finish on their old workers.
    if (hooks_.drain_app) hooks_.drain_app(app_id);
    log.append("Bundle activated.");
    tasks_.finish(task.id, true);
    audit_build(app_id, bundle_id, "");
  } catch (const std::exception& e) {
    const std::string reason =
        cancelled_->load() ? std::string("the server shut down during the build") : e.what();
    spdlog::warn("build of bundle {} (app {}) failed: {}", bundle_id, app_id, reason);
    log.append("ERROR: " + reason);
    if (!library.empty()) package_store_->remove_library(library);
    std::error_code ec;
    fs::remove(f.runtime, ec);
    try {
      store_.set_bundle_status(bundle_id, "failed", reason);
    } catch (const std::exception& inner) {
      spdlog::error("marking bundle {} failed: {}", bundle_id, inner.what());
    }
    tasks_.finish(task.id, false);
    audit_build(app_id, bundle_id, reason);
    return;
  }
  try {
    enforce_retention(app_id);
  } catch (const std::exception& e) {
    spdlog::warn("bundle retention for app {}: {}", app_id, e.what());
  }
}

void Deployer::audit_build(const std::string& app_id, const std::string& bundle_id,
                           const std::string& failure) {
  if (hooks_.audit == nullptr) return;
  std::string actor = "anonymous";
  try {
    if (const auto bundle = store_.get_bundle(bundle_id); bundle && bundle->deployed_by)
      actor = *bundle->deployed_by;
  } catch (const std::exception& e) {
    spdlog::warn("bundle {}: reading who deployed it: {}", bundle_id, e.what());
  }
  nlohmann::json detail{{"bundle_id", bundle_id}};
  if (!failure.empty()) detail["reason"] = failure;
  hooks_.audit->emit({"bundle.build", actor, app_id, std::move(detail), "",
                      failure.empty() ? "success" : "failure"});
}

store::App Deployer::rollback(const store::App& app, const std::string& bundle_id,
                              const std::optional<std::string>& deployed_by) {
  const auto bundle = store_.get_bundle(bundle_id);
  if (!bundle || bundle->app_id != app.id) throw ApiError::not_found("bundle not found");
  if (bundle->status != "ready")
    throw ApiError::bad_request("bundle is not ready (status: " + bundle->status + ")");
  if (app.active_bundle == bundle_id) throw ApiError::bad_request("bundle is already active");
  std::error_code ec;
  if (!fs::is_directory(files(app.id, bundle_id).unpacked, ec))
    throw ApiError::bad_request("bundle " + bundle_id + " has no files left on the server");
  store_.reactivate_bundle(app.id, bundle_id, deployed_by, store::now_rfc3339());
  // Sessions on the bundle rolled back from restart on this one.
  if (hooks_.stop_app) hooks_.stop_app(app.id);
  auto updated = store_.get_app(app.id);
  if (!updated) throw ApiError::not_found("app not found");
  return *updated;
}

int Deployer::enforce_retention(const std::string& app_id) {
  const auto app = store_.get_app(app_id);
  if (!app) return 0;
  int kept = 0;
  int removed = 0;
  for (const auto& b : store_.list_bundles(app_id)) {  // newest first
    if (app->active_bundle == b.id || b.status == "pending" || b.status == "building") continue;
    if (kept < options_.bundle_retention) {
      ++kept;
      continue;
    }
    if (hooks_.bundle_in_use && hooks_.bundle_in_use(app_id, b.id)) continue;
    delete_bundle(app_id, b.id);
    ++removed;
  }
  if (removed > 0)
    spdlog::info("bundle retention: removed {} old bundle(s) of app {}", removed, app_id);
  return removed;
}

void Deployer::delete_bundle(const std::string& app_id, const std::string& bundle_id) {
  remove_bundle_files(files(app_id, bundle_id));
  package_store_->remove_library(bundle_id);
  store_.delete_bundle(bundle_id);
}

void Deployer::purge_app(const store::App& app) {
  if (hooks_.stop_app) hooks_.stop_app(app.id);
  for (const auto& b : store_.list_bundles(app.id)) package_store_->remove_library(b.id);
  store_.delete_app(app.id);
  std::error_code ec;
  fs::remove_all(options_.bundle_root / app.id, ec);
  if (ec) spdlog::warn("purging app {}: removing its files: {}", app.id, ec.message());
}

Deployer::Sweep Deployer::sweep() {
  Sweep sweep;
  if (options_.soft_delete_retention > milliseconds(0)) {
    const auto cutoff =
        store::format_rfc3339(std::chrono::system_clock::now() - options_.soft_delete_retention);
    for (const auto& app : store_.list_deleted_apps(cutoff)) {
      purge_app(app);
      ++sweep.apps_purged;
      spdlog::info("purged app {} ({}), deleted at {}", app.name, app.id,
                   app.deleted_at.value_or("?"));
    }
  }
  if (options_.store_retention > milliseconds(0)) {
    sweep.packages_evicted = package_store_->evict_unused(options_.store_retention);
    if (sweep.packages_evicted > 0)
      spdlog::info("package store: evicted {} unused package(s)", sweep.packages_evicted);
  }
  return sweep;
}

void Deployer::start_housekeeping() {
  if (options_.soft_delete_retention <= milliseconds(0) &&
      options_.store_retention <= milliseconds(0))
    return;
  housekeeper_ = std::thread([this] { housekeeping_loop(); });
}

void Deployer::housekeeping_loop() {
  milliseconds interval = std::chrono::hours(24);
  if (options_.soft_delete_retention > milliseconds(0))
    interval = std::min<milliseconds>(
        interval, std::min<milliseconds>(std::chrono::hours(1), options_.soft_delete_retention));
  if (options_.store_retention > milliseconds(0))
    interval = std::min<milliseconds>(interval, options_.store_retention / 2);
  interval = std::max(interval, milliseconds(1000));
  std::unique_lock lock(housekeeping_mu_);
  while (!stopping_) {
    if (housekeeping_cv_.wait_for(lock, interval, [this] { return stopping_; })) break;
    lock.unlock();
    try {
      sweep();
    } catch (const std::exception& e) {
      spdlog::warn("housekeeping: {}", e.what());
    }
    lock.lock();
  }
}

void Deployer::cancel_builds() {
  cancelled_->store(true);
}

}  // namespace blockyard::deploy
