#include "deploy/bundle_files.h"

#include <spdlog/spdlog.h>

#include "bundle/bundle_runtime.h"

namespace blockyard::deploy {

namespace fs = std::filesystem;

BundleFiles bundle_files(const fs::path& root, const std::string& app_id,
                         const std::string& bundle_id) {
  BundleFiles f;
  f.app_dir = root / app_id;
  f.archive = f.app_dir / (bundle_id + ".tar.gz");
  f.unpacked = f.app_dir / bundle_id;
  f.runtime = bundle::runtime_file(f.unpacked);
  f.manifest = f.app_dir / (bundle_id + ".manifest.json");
  f.log = f.app_dir / (bundle_id + ".log");
  return f;
}

fs::path package_store_root(const fs::path& root) {
  return root / ".pkg-store";
}

void remove_bundle_files(const BundleFiles& files) {
  for (const auto* path :
       {&files.archive, &files.unpacked, &files.runtime, &files.manifest, &files.log}) {
    std::error_code ec;
    fs::remove_all(*path, ec);
    if (ec) spdlog::warn("removing {}: {}", path->string(), ec.message());
  }
}

}  // namespace blockyard::deploy
