// PackageStore: installed R packages shared by every bundle, each installed
// once. An entry is one installed package, addressed by
//   {platform}/{package}/{version}/{source_id}-{config_id}/
// where platform is "{R major.minor}-{R platform}" (4.2-x86_64-pc-linux-gnu),
// source_id names where the source came from (a repository URL's hash, or a
// git commit), and config_id hashes the versions of the packages it was
// compiled against (LinkingTo). The entry directory holds the package itself
// ({package}/) and entry.json, whose mtime is the entry's last use.
//
// A bundle's library is a directory of relative symlinks into the store,
// .libs/{name}/{package} -> ../../{platform}/.../{package}, so a library is
// assembled without copying a file and the whole store can be mounted
// read-only anywhere (workers see it at /blockyard-lib-store).
//
// New entries are installed into a staging directory on the same file
// system (.staging/) and renamed into place, under a per-entry lock
// (flock on .locks/{hash}.lock, released when the holder dies), so
// concurrent builds never see or leave a half-installed entry.
//
// Thread safety: every method may be called from several threads and
// processes at once.
#pragma once

#include <chrono>
#include <filesystem>
#include <string>
#include <vector>

#include "core/unique_fd.h"

namespace blockyard::restore {

struct StoreEntry {
  std::string platform;   // "4.2-x86_64-pc-linux-gnu"
  std::string package;    // "shiny"
  std::string version;    // "1.7.4"
  std::string source_id;  // 16 hex digits, or "git-<sha>[-subdir]"
  std::string config_id;  // 16 hex digits

  // platform/package/version/source_id-config_id
  std::filesystem::path relative_path() const;
  bool operator==(const StoreEntry&) const = default;
};

// The source id of packages from the repository at `url` (trailing slashes
// ignored): the first 16 hex digits of SHA-256("repository\0" + url).
std::string repository_source_id(std::string_view url);

// The config id of a package compiled against `linked` ("name version id"
// strings, any order): 16 hex digits of SHA-256 over them sorted; a package
// without LinkingTo has the id of the empty list.
std::string config_id(std::vector<std::string> linked);

class PackageStore {
 public:
  // Creates the store's directories (0755) below `root` if missing.
  // Throws std::runtime_error when that fails.
  explicit PackageStore(std::filesystem::path root);
  PackageStore(const PackageStore&) = delete;
  PackageStore& operator=(const PackageStore&) = delete;

  const std::filesystem::path& root() const { return root_; }
  std::filesystem::path entry_path(const StoreEntry& entry) const;
  // True when the entry holds an installed package (its DESCRIPTION).
  bool contains(const StoreEntry& entry) const;
  // Marks the entry used now (entry.json's mtime); eviction counts from it.
  void touch(const StoreEntry& entry) const;

  // An exclusive lock on one entry, held until destroyed.
  class EntryLock {
   public:
    EntryLock() = default;
    explicit EntryLock(UniqueFd fd) : fd_(std::move(fd)) {}
    bool held() const { return fd_.valid(); }

   private:
    UniqueFd fd_;
  };
  // Blocks until the entry's lock is ours. Throws std::runtime_error.
  EntryLock lock(const StoreEntry& entry) const;

  // A fresh, not yet existing directory under .staging/ for one install.
  std::filesystem::path new_staging_dir() const;

  // Moves the package installed in `staged` ({staged}/{package}/) into the
  // store as `entry`, writing entry.json from `metadata_json`, and removes
  // `staged`. Call with the entry's lock held. Returns false (and discards
  // the staged copy) when the entry already exists. Throws
  // std::runtime_error when the staged package is missing, is not the
  // package and version the entry names, or the rename fails; the store is
  // then unchanged.
  bool ingest(const std::filesystem::path& staged, const StoreEntry& entry,
              const std::string& metadata_json) const;

  // .libs/{name}
  std::filesystem::path library_path(const std::string& name) const;
  // Replaces library `name` with links to `entries` (one per package name),
  // atomically: readers see the old library or the new one. Touches every
  // entry. Throws std::runtime_error when an entry is missing.
  void assemble_library(const std::string& name, const std::vector<StoreEntry>& entries) const;
  void remove_library(const std::string& name) const;

  // Removes entries no library links to whose last use is older than
  // `retention`; returns how many. retention <= 0 removes nothing.
  int evict_unused(std::chrono::system_clock::duration retention) const;
  // Start-up: removes what builds interrupted by a crash left behind
  // (staging directories, half-assembled libraries).
  void remove_interrupted_work() const;

 private:
  std::filesystem::path root_;
};

}  // namespace blockyard::restore
