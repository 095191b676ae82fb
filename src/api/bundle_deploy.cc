#include "api/bundle_deploy.h"

#include <fstream>
#include <system_error>

#include <spdlog/spdlog.h>

#include "bundle/archive.h"
#include "bundle/dependency_source.h"
#include "core/crypto.h"
#include "core/error.h"

namespace blockyard::api {

namespace fs = std::filesystem;

namespace {

// rename() when possible; the spool dir may be on another filesystem.
void move_file(const fs::path& from, const fs::path& to) {
  std::error_code ec;
  fs::rename(from, to, ec);
  if (!ec) return;
  fs::copy_file(from, to, fs::copy_options::overwrite_existing);
  fs::remove(from, ec);
}

void write_file(const fs::path& file, const std::string& content) {
  std::ofstream out(file, std::ios::binary | std::ios::trunc);
  out.write(content.data(), static_cast<std::streamsize>(content.size()));
  out.close();
  if (!out) throw std::runtime_error("writing " + file.string() + " failed");
}

void remove_quietly(const fs::path& path) {
  std::error_code ec;
  fs::remove_all(path, ec);
  if (ec) spdlog::warn("removing {}: {}", path.string(), ec.message());
}

}  // namespace

std::size_t count_files(const fs::path& dir) {
  std::size_t n = 0;
  for (const auto& entry : fs::recursive_directory_iterator(dir)) {
    if (entry.is_regular_file()) ++n;
  }
  return n;
}

DeployStarted start_bundle_deploy(ApiContext& ctx, const store::App& app,
                                  const std::string& deployed_by, const fs::path& spooled_body,
                                  const std::string& body) {
  const std::string bundle_id = uuid_v4();
  const fs::path app_dir = fs::path(ctx.config.storage.bundle_server_path) / app.id;
  const fs::path archive = app_dir / (bundle_id + ".tar.gz");
  const fs::path unpacked = app_dir / bundle_id;

  store::Bundle row;
  row.id = bundle_id;
  row.app_id = app.id;
  row.uploaded_at = store::now_rfc3339();
  row.deployed_by = deployed_by;

  std::size_t files = 0;
  bundle::ResolvedDependencies dependencies;
  try {
    fs::create_directories(app_dir);
    if (!spooled_body.empty()) {
      move_file(spooled_body, archive);
    } else {
      write_file(archive, body);
    }
    bundle::unpack_bundle(archive, unpacked);
    bundle::check_entrypoint(unpacked);
    files = count_files(unpacked);
    // A broken manifest.json, renv.lock or DESCRIPTION is the uploader's to fix now.
    dependencies = bundle::resolve_dependencies(unpacked);
    row.pinned = dependencies.manifest.pinned();
  } catch (const bundle::BundleError& e) {
    remove_quietly(archive);
    remove_quietly(unpacked);
    row.status = "failed";
    row.error = e.what();
    ctx.store.create_bundle(row);
    throw ApiError::bad_request(e.what());
  } catch (...) {
    remove_quietly(archive);
    remove_quietly(unpacked);
    throw;
  }

  tasks::Task task;
  try {
    row.status = "pending";
    ctx.store.create_bundle(row);
    task = ctx.tasks.create(app.id);
  } catch (...) {
    remove_quietly(archive);
    remove_quietly(unpacked);
    throw;
  }
  try {
    ctx.deployer.start_build(task, app.id, bundle_id, files, std::move(dependencies));
  } catch (const std::exception& e) {
    // Nothing will ever build it: do not leave a pending bundle behind.
    task.log->append(std::string("ERROR: ") + e.what());
    ctx.store.set_bundle_status(bundle_id, "failed", std::string(e.what()));
    ctx.tasks.finish(task.id, false);
    throw;
  }
  return DeployStarted{bundle_id, task.id};
}

}  // namespace blockyard::api
