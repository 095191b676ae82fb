// Test-only helpers for the bundle tests: temp dirs, file I/O, tree
// snapshots, and an archive builder that can write the hostile entries a
// real packer never would. Header-only so it stays out of by_bundle.
#pragma once

#include <archive.h>
#include <archive_entry.h>
#include <gtest/gtest.h>
#include <stdlib.h>
#include <sys/stat.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <string>

#include "bundle/archive_handle.h"
#include "bundle/manifest.h"

namespace blockyard::bundle::testing {

namespace fs = std::filesystem;

// A fresh directory under the system temp dir, removed with its contents.
class TempDir {
 public:
  TempDir() {
    std::string pattern = (fs::temp_directory_path() / "by-bundle-test-XXXXXX").string();
    if (::mkdtemp(pattern.data()) == nullptr) throw std::runtime_error("mkdtemp failed");
    path_ = pattern;
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  ~TempDir() {
    std::error_code ignored;
    fs::remove_all(path_, ignored);
  }
  const fs::path& path() const { return path_; }
  fs::path operator/(const std::string& name) const { return path_ / name; }

 private:
  fs::path path_;
};

// A manifest package record with the given fields (the rest empty).
inline PackageRecord record(const std::string& package, const std::string& version,
                            const std::string& source, const std::string& repository = "") {
  PackageRecord r;
  r.package = package;
  r.version = version;
  r.source = source;
  r.repository = repository;
  return r;
}

// A GitHub package record, user/<package> at `sha`.
inline PackageRecord github_record(const std::string& package, const std::string& user,
                                   const std::string& sha) {
  PackageRecord r = record(package, "", "GitHub");
  r.remote_username = user;
  r.remote_repo = package;
  r.remote_sha = sha;
  return r;
}

inline void write_text(const fs::path& file, const std::string& content) {
  fs::create_directories(file.parent_path());
  std::ofstream out(file, std::ios::binary);
  out << content;
}

inline std::string read_text(const fs::path& file) {
  std::ifstream in(file, std::ios::binary);
  std::stringstream buffer;
  buffer << in.rdbuf();
  return buffer.str();
}

// Every path under root (not following symlinks) mapped to "dir", or
// "file:" + content, or "link:" + target.
inline std::map<std::string, std::string> snapshot(const fs::path& root) {
  std::map<std::string, std::string> tree;
  for (auto it = fs::recursive_directory_iterator(root); it != fs::recursive_directory_iterator();
       ++it) {
    std::string rel = fs::relative(it->path(), root).string();
    auto type = it->symlink_status().type();
    if (type == fs::file_type::directory) {
      tree[rel] = "dir";
    } else if (type == fs::file_type::symlink) {
      tree[rel] = "link:" + fs::read_symlink(it->path()).string();
    } else {
      tree[rel] = "file:" + read_text(it->path());
    }
  }
  return tree;
}

inline mode_t permissions_of(const fs::path& p) {
  struct stat st {};
  if (::lstat(p.c_str(), &st) != 0) return 0;
  return st.st_mode & 07777;
}

// Writes a tar archive (gzip-compressed unless told otherwise) entry by entry.
class ArchiveBuilder {
 public:
  explicit ArchiveBuilder(const fs::path& out, bool gzip = true) : writer_(archive_write_new()) {
    if (gzip) archive_write_add_filter_gzip(writer_.get());
    archive_write_set_format_pax_restricted(writer_.get());
    if (archive_write_open_filename(writer_.get(), out.c_str()) != ARCHIVE_OK) {
      throw std::runtime_error(archive_error_text(writer_.get()));
    }
  }

  ArchiveBuilder& file(const std::string& name, const std::string& content, mode_t perm = 0644) {
    ArchiveEntry e = entry(name, AE_IFREG, perm);
    archive_entry_set_size(e.get(), static_cast<la_int64_t>(content.size()));
    header(e.get());
    if (!content.empty() && archive_write_data(writer_.get(), content.data(), content.size()) !=
                                static_cast<la_ssize_t>(content.size())) {
      throw std::runtime_error(archive_error_text(writer_.get()));
    }
    return *this;
  }
  ArchiveBuilder& dir(const std::string& name, mode_t perm = 0755) {
    header(entry(name, AE_IFDIR, perm).get());
    return *this;
  }
  ArchiveBuilder& symlink(const std::string& name, const std::string& target) {
    ArchiveEntry e = entry(name, AE_IFLNK, 0777);
    archive_entry_set_symlink(e.get(), target.c_str());
    header(e.get());
    return *this;
  }
  ArchiveBuilder& hardlink(const std::string& name, const std::string& target) {
    ArchiveEntry e = entry(name, AE_IFREG, 0644);
    archive_entry_set_hardlink(e.get(), target.c_str());
    header(e.get());
    return *this;
  }
  // type: AE_IFCHR, AE_IFBLK or AE_IFIFO.
  ArchiveBuilder& special(const std::string& name, mode_t type) {
    ArchiveEntry e = entry(name, type, 0644);
    archive_entry_set_rdevmajor(e.get(), 1);
    archive_entry_set_rdevminor(e.get(), 3);
    header(e.get());
    return *this;
  }

  void finish() {
    if (archive_write_close(writer_.get()) != ARCHIVE_OK) {
      throw std::runtime_error(archive_error_text(writer_.get()));
    }
  }

 private:
  static ArchiveEntry entry(const std::string& name, mode_t type, mode_t perm) {
    ArchiveEntry e(archive_entry_new());
    archive_entry_set_pathname(e.get(), name.c_str());
    archive_entry_set_filetype(e.get(), type);
    archive_entry_set_perm(e.get(), perm);
    return e;
  }
  void header(struct archive_entry* e) {
    if (archive_write_header(writer_.get(), e) != ARCHIVE_OK) {
      throw std::runtime_error(archive_error_text(writer_.get()));
    }
  }

  WriteArchive writer_;
};

// Entry names of a gzip tar, in archive order.
inline std::vector<std::string> list_entries(const fs::path& archive_path) {
  ReadArchive reader(archive_read_new());
  archive_read_support_filter_gzip(reader.get());
  archive_read_support_format_tar(reader.get());
  std::vector<std::string> names;
  if (archive_read_open_filename(reader.get(), archive_path.c_str(), 10240) != ARCHIVE_OK) {
    return names;
  }
  struct archive_entry* e = nullptr;
  while (archive_read_next_header(reader.get(), &e) == ARCHIVE_OK) {
    names.emplace_back(archive_entry_pathname(e));
  }
  return names;
}

}  // namespace blockyard::bundle::testing
