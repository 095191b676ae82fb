// What a bundle's workers need besides the unpacked bundle, as its build
// left it: the R to run, and the library of packages restored for it (a
// directory of links into the package store). Kept in
// {bundle_dir}.runtime.json beside the unpacked bundle ({bundle_dir}), so a
// worker spawn needs only the bundle's path to find it.
//
// Workers see the store read-only at kPackageStoreMount and get
// R_LIBS={kPackageStoreMount}/.libs/{library}: the bundle's packages come
// first, the server's R library after them.
#pragma once

#include <filesystem>
#include <optional>
#include <string>
#include <vector>

namespace blockyard::bundle {

inline constexpr const char* kPackageStoreMount = "/blockyard-lib-store";

struct RestoredPackage {
  std::string package;
  std::string version;
  std::string origin;  // host | repository | git
  std::string source;  // repository URL, git URL@sha, or the host library path
  bool requested = false;
};

struct BundleRuntime {
  std::filesystem::path r_path;      // empty = the server's R
  std::string r_version;             // the R the packages were built for
  std::string platform;              // the store platform ("4.2-x86_64-pc-linux-gnu")
  std::filesystem::path store_root;  // empty when the bundle has no library
  std::string library;               // name below {store_root}/.libs
  std::vector<RestoredPackage> packages;

  bool has_library() const { return !store_root.empty() && !library.empty(); }
};

std::filesystem::path runtime_file(const std::filesystem::path& bundle_dir);

// Writes atomically (temp file + rename). Throws std::runtime_error.
void write_bundle_runtime(const std::filesystem::path& bundle_dir, const BundleRuntime& runtime);

// Nullopt when the bundle has none (built before restores existed, or its
// build did not finish). Throws std::runtime_error on a corrupt file.
std::optional<BundleRuntime> read_bundle_runtime(const std::filesystem::path& bundle_dir);

}  // namespace blockyard::bundle
