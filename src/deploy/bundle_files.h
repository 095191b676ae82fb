// Where a bundle's files live under storage.bundle_server_path:
//   {root}/{app_id}/{bundle_id}.tar.gz            the upload
//   {root}/{app_id}/{bundle_id}/                  unpacked, read-only in workers
//   {root}/{app_id}/{bundle_id}.runtime.json      R and library (bundle_runtime.h)
//   {root}/{app_id}/{bundle_id}.manifest.json     the manifest it was built from
//   {root}/{app_id}/{bundle_id}.log               its build log, written as it runs
//   {root}/.pkg-store/.libs/{bundle_id}/          its package library (package_store.h)
#pragma once

#include <filesystem>
#include <string>

namespace blockyard::deploy {

struct BundleFiles {
  std::filesystem::path app_dir;
  std::filesystem::path archive;
  std::filesystem::path unpacked;
  std::filesystem::path runtime;
  std::filesystem::path manifest;
  std::filesystem::path log;
};

BundleFiles bundle_files(const std::filesystem::path& root, const std::string& app_id,
                         const std::string& bundle_id);

// The package store's root: {root}/.pkg-store.
std::filesystem::path package_store_root(const std::filesystem::path& root);

// Removes every file of the bundle listed above except its library (the
// store's job); missing files are fine, failures are logged.
void remove_bundle_files(const BundleFiles& files);

}  // namespace blockyard::deploy
