#include "restore/package_store.h"

#include <fcntl.h>
#include <spdlog/spdlog.h>
#include <sys/file.h>
#include <sys/stat.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <set>
#include <stdexcept>

#include "bundle/dcf.h"
#include "core/crypto.h"

namespace blockyard::restore {

namespace {

namespace fs = std::filesystem;

constexpr fs::perms kDirPerms = fs::perms::owner_all | fs::perms::group_read |
                                fs::perms::group_exec | fs::perms::others_read |
                                fs::perms::others_exec;

void make_dir(const fs::path& dir) {
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec)
    throw std::runtime_error("package store: cannot create " + dir.string() + ": " + ec.message());
  fs::permissions(dir, kDirPerms, fs::perm_options::replace, ec);
}

std::string read_description_field(const fs::path& description, const std::string& name) {
  std::ifstream in(description, std::ios::binary);
  if (!in) return "";
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  try {
    auto records = bundle::parse_dcf(text, description.string());
    if (records.empty()) return "";
    auto it = records.front().find(name);
    return it == records.front().end() ? "" : it->second;
  } catch (const std::exception&) {
    return "";
  }
}

// Files of an installed package must not carry privileges into a worker:
// setuid/setgid bits go, and nothing is writable by group or others.
void sanitize_tree(const fs::path& dir) {
  std::error_code ec;
  for (fs::recursive_directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
    struct stat st {};
    if (::lstat(it->path().c_str(), &st) != 0 || S_ISLNK(st.st_mode)) continue;
    const mode_t clean = st.st_mode & ~(S_ISUID | S_ISGID | S_IWGRP | S_IWOTH) & 07777;
    if (clean != (st.st_mode & 07777)) ::chmod(it->path().c_str(), clean);
  }
}

void remove_quietly(const fs::path& path) {
  std::error_code ec;
  fs::remove_all(path, ec);
  if (ec) spdlog::warn("package store: cannot remove {}: {}", path.string(), ec.message());
}

// Removes `dir` and its parents up to (not including) `stop` while empty.
void prune_empty_parents(fs::path dir, const fs::path& stop) {
  std::error_code ec;
  while (dir != stop && dir.string().size() > stop.string().size() && fs::is_empty(dir, ec) &&
         !ec) {
    fs::remove(dir, ec);
    dir = dir.parent_path();
  }
}

bool valid_component(const std::string& s) {
  return !s.empty() && s != "." && s != ".." && s.find('/') == std::string::npos &&
         s.find('\0') == std::string::npos && !s.starts_with(".");
}

}  // namespace

fs::path StoreEntry::relative_path() const {
  return fs::path(platform) / package / version / (source_id + "-" + config_id);
}

std::string repository_source_id(std::string_view url) {
  while (url.size() > 1 && url.back() == '/') url.remove_suffix(1);
  return sha256_hex("repository\0" + std::string(url)).substr(0, 16);
}

std::string config_id(std::vector<std::string> linked) {
  std::sort(linked.begin(), linked.end());
  std::string joined;
  for (const auto& l : linked) joined += l + '\0';
  return sha256_hex(joined).substr(0, 16);
}

PackageStore::PackageStore(fs::path root) : root_(std::move(root)) {
  make_dir(root_);
  for (const char* sub : {".libs", ".staging", ".locks", ".trash"}) make_dir(root_ / sub);
}

fs::path PackageStore::entry_path(const StoreEntry& entry) const {
  for (const auto* part :
       {&entry.platform, &entry.package, &entry.version, &entry.source_id, &entry.config_id})
    if (!valid_component(*part))
      throw std::runtime_error("package store: invalid entry component \"" + *part + "\"");
  return root_ / entry.relative_path();
}

bool PackageStore::contains(const StoreEntry& entry) const {
  std::error_code ec;
  return fs::is_regular_file(entry_path(entry) / entry.package / "DESCRIPTION", ec);
}

void PackageStore::touch(const StoreEntry& entry) const {
  const fs::path meta = entry_path(entry) / "entry.json";
  ::utimensat(AT_FDCWD, meta.c_str(), nullptr, 0);
}

PackageStore::EntryLock PackageStore::lock(const StoreEntry& entry) const {
  const fs::path file =
      root_ / ".locks" / (sha256_hex(entry.relative_path().string()).substr(0, 32) + ".lock");
  UniqueFd fd(::open(file.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600));
  if (!fd.valid())
    throw std::runtime_error("package store: cannot open lock " + file.string() + ": " +
                             std::strerror(errno));
  while (::flock(fd.get(), LOCK_EX) != 0) {
    if (errno != EINTR)
      throw std::runtime_error("package store: cannot lock " + file.string() + ": " +
                               std::strerror(errno));
  }
  return EntryLock(std::move(fd));
}

fs::path PackageStore::new_staging_dir() const {
  return root_ / ".staging" / uuid_v4();
}

bool PackageStore::ingest(const fs::path& staged, const StoreEntry& entry,
                          const std::string& metadata_json) const {
  const fs::path target = entry_path(entry);
  std::error_code ec;
  if (contains(entry)) {
    remove_quietly(staged);
    return false;
  }
  const fs::path package_dir = staged / entry.package;
  const std::string package = read_description_field(package_dir / "DESCRIPTION", "Package");
  const std::string version = read_description_field(package_dir / "DESCRIPTION", "Version");
  if (package != entry.package || version != entry.version)
    throw std::runtime_error("package store: the staged install holds \"" + package + " " +
                             version + "\", not " + entry.package + " " + entry.version);
  // Only the package itself enters the store (no lock directories, no
  // leftovers of the install).
  for (const auto& child : fs::directory_iterator(staged, ec))
    if (child.path().filename() != entry.package) remove_quietly(child.path());
  sanitize_tree(staged);
  {
    std::ofstream meta(staged / "entry.json", std::ios::binary | std::ios::trunc);
    meta << metadata_json;
    if (!meta) throw std::runtime_error("package store: cannot write entry.json");
  }
  fs::permissions(staged, kDirPerms, fs::perm_options::replace, ec);
  make_dir(target.parent_path());
  fs::rename(staged, target, ec);
  if (ec) {
    if (contains(entry)) {  // someone without the lock won (should not happen)
      remove_quietly(staged);
      return false;
    }
    throw std::runtime_error("package store: cannot move " + staged.string() + " to " +
                             target.string() + ": " + ec.message());
  }
  return true;
}

fs::path PackageStore::library_path(const std::string& name) const {
  if (name.empty() || name.find('/') != std::string::npos || name == "." || name == "..")
    throw std::runtime_error("package store: invalid library name \"" + name + "\"");
  return root_ / ".libs" / name;
}

void PackageStore::assemble_library(const std::string& name,
                                    const std::vector<StoreEntry>& entries) const {
  const fs::path final_path = library_path(name);
  const fs::path tmp = root_ / ".libs" / (".tmp-" + uuid_v4());
  make_dir(tmp);
  try {
    std::set<std::string> seen;
    for (const auto& entry : entries) {
      if (!contains(entry))
        throw std::runtime_error("package store: " + entry.package + " " + entry.version +
                                 " is missing from the store (" + entry.relative_path().string() +
                                 ")");
      if (!seen.insert(entry.package).second)
        throw std::runtime_error("package store: two entries for package " + entry.package);
      fs::create_directory_symlink(fs::path("..") / ".." / entry.relative_path() / entry.package,
                                   tmp / entry.package);
      touch(entry);
    }
    std::error_code ec;
    if (fs::exists(final_path, ec)) {
      // rename() cannot replace a non-empty directory: move the old one aside first.
      const fs::path old = root_ / ".libs" / (".old-" + uuid_v4());
      fs::rename(final_path, old);
      fs::rename(tmp, final_path);
      remove_quietly(old);
    } else {
      fs::rename(tmp, final_path);
    }
  } catch (...) {
    remove_quietly(tmp);
    throw;
  }
}

void PackageStore::remove_library(const std::string& name) const {
  remove_quietly(library_path(name));
}

int PackageStore::evict_unused(std::chrono::system_clock::duration retention) const {
  if (retention <= std::chrono::system_clock::duration::zero()) return 0;
  std::error_code ec;
  // Every entry some library (including a build's temporary one) links to.
  std::set<fs::path> referenced;
  for (const auto& lib : fs::directory_iterator(root_ / ".libs", ec)) {
    std::error_code inner;
    for (const auto& link : fs::directory_iterator(lib.path(), inner)) {
      if (!link.is_symlink(inner)) continue;
      const fs::path target = fs::read_symlink(link.path(), inner);
      if (!inner) referenced.insert((lib.path() / target).lexically_normal().parent_path());
    }
  }
  const auto cutoff = fs::file_time_type::clock::now() -
                      std::chrono::duration_cast<fs::file_time_type::duration>(retention);
  int removed = 0;
  // platform / package / version / entry
  for (const auto& platform : fs::directory_iterator(root_, ec)) {
    if (platform.path().filename().string().starts_with(".") || !platform.is_directory()) continue;
    std::vector<fs::path> entries;
    std::error_code walk;
    for (fs::recursive_directory_iterator it(platform.path(), walk), end; !walk && it != end;
         it.increment(walk)) {
      if (it.depth() == 2 && it->is_directory()) {
        entries.push_back(it->path());
        it.disable_recursion_pending();
      }
    }
    for (const auto& dir : entries) {
      if (referenced.count(dir.lexically_normal()) != 0) continue;
      std::error_code stat_ec;
      const auto used = fs::last_write_time(dir / "entry.json", stat_ec);
      if (!stat_ec && used >= cutoff) continue;
      const fs::path rel = dir.lexically_relative(root_);
      auto parts = std::vector<fs::path>(rel.begin(), rel.end());
      if (parts.size() != 4) continue;
      const std::string last = parts[3].string();
      const auto dash = last.rfind('-');
      if (dash == std::string::npos) continue;
      StoreEntry entry{parts[0].string(), parts[1].string(), parts[2].string(),
                       last.substr(0, dash), last.substr(dash + 1)};
      EntryLock held = lock(entry);
      // Re-checked under the lock: a build may have just used it.
      const auto again = fs::last_write_time(dir / "entry.json", stat_ec);
      if (!stat_ec && again >= cutoff) continue;
      const fs::path trash = root_ / ".trash" / uuid_v4();
      fs::rename(dir, trash, stat_ec);
      if (stat_ec) continue;
      remove_quietly(trash);
      prune_empty_parents(dir.parent_path(), root_);
      ++removed;
    }
  }
  return removed;
}

void PackageStore::remove_interrupted_work() const {
  std::error_code ec;
  for (const char* sub : {".staging", ".trash"})
    for (const auto& child : fs::directory_iterator(root_ / sub, ec)) remove_quietly(child.path());
  for (const auto& child : fs::directory_iterator(root_ / ".libs", ec))
    if (child.path().filename().string().starts_with(".")) remove_quietly(child.path());
}

}  // namespace blockyard::restore
