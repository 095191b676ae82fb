#include "bundle/pack.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstring>
#include <ctime>
#include <stdexcept>
#include <system_error>
#include <vector>

#include "bundle/archive_handle.h"
#include "core/unique_fd.h"

namespace blockyard::bundle {
namespace {

namespace fs = std::filesystem;
constexpr std::size_t kBlockSize = 64 * 1024;

[[noreturn]] void fail(const std::string& message) {
  throw std::runtime_error(message);
}

std::string errno_text(int err) {
  return std::strerror(err);
}

// Deletes a partially written archive unless packing completed.
class RemoveFileUnlessCommitted {
 public:
  explicit RemoveFileUnlessCommitted(fs::path file) : file_(std::move(file)) {}
  RemoveFileUnlessCommitted(const RemoveFileUnlessCommitted&) = delete;
  RemoveFileUnlessCommitted& operator=(const RemoveFileUnlessCommitted&) = delete;
  ~RemoveFileUnlessCommitted() {
    if (committed_ || file_.empty()) return;
    std::error_code ignored;
    fs::remove(file_, ignored);
  }
  void commit() { committed_ = true; }

 private:
  fs::path file_;
  bool committed_ = false;
};

// Writes one directory tree into an open archive writer.
class Packer {
 public:
  Packer(struct archive* writer, const fs::path& root, const PackWarning& warn,
         const struct stat& output, const std::map<std::string, std::string>& generated)
      : writer_(writer), root_(root), warn_(warn), output_(output), generated_(generated) {}

  PackStats run() {
    for (const auto& [name, content] : generated_) write_generated(name, content);
    walk(root_, "");
    return stats_;
  }

 private:
  void walk(const fs::path& dir, const std::string& rel_dir) {
    std::vector<std::string> names;
    std::error_code ec;
    for (fs::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
      std::string name = it->path().filename().string();
      if (!name.empty() && name.front() != '.') names.push_back(std::move(name));
    }
    if (ec) fail("cannot list " + dir.string() + ": " + ec.message());
    std::sort(names.begin(), names.end());

    for (const std::string& name : names) {
      fs::path full = dir / name;
      std::string rel = rel_dir.empty() ? name : rel_dir + "/" + name;
      if (rel_dir.empty() && generated_.count(name) != 0) continue;  // replaced
      struct stat st {};
      if (::lstat(full.c_str(), &st) != 0)
        fail("cannot stat " + full.string() + ": " + errno_text(errno));
      if (S_ISDIR(st.st_mode)) {
        write_header(rel, st);
        walk(full, rel);
      } else if (S_ISREG(st.st_mode)) {
        if (st.st_dev == output_.st_dev && st.st_ino == output_.st_ino) continue;
        write_file(full, rel);
      } else if (S_ISLNK(st.st_mode)) {
        warn("skipping symlink \"" + rel + "\" (symlinks cannot be deployed)");
      } else {
        warn("skipping special file \"" + rel + "\" (only files and directories are deployed)");
      }
    }
  }

  void warn(const std::string& message) {
    if (warn_) warn_(message);
  }

  void write_header(const std::string& rel, const struct stat& st) {
    ArchiveEntry entry(archive_entry_new());
    if (!entry) fail("out of memory");
    archive_entry_set_pathname(entry.get(), rel.c_str());
    archive_entry_set_filetype(entry.get(), S_ISDIR(st.st_mode) ? AE_IFDIR : AE_IFREG);
    archive_entry_set_perm(entry.get(), st.st_mode & 0777);
    archive_entry_set_size(entry.get(), S_ISDIR(st.st_mode) ? 0 : st.st_size);
    archive_entry_set_mtime(entry.get(), st.st_mtim.tv_sec, st.st_mtim.tv_nsec);
    archive_entry_set_uid(entry.get(), 0);
    archive_entry_set_gid(entry.get(), 0);
    if (archive_write_header(writer_, entry.get()) != ARCHIVE_OK) {
      fail("cannot write entry \"" + rel + "\": " + archive_error_text(writer_));
    }
  }

  void write_generated(const std::string& name, const std::string& content) {
    struct stat st {};
    st.st_mode = S_IFREG | 0644;
    st.st_size = static_cast<off_t>(content.size());
    st.st_mtim.tv_sec = ::time(nullptr);
    write_header(name, st);
    if (!content.empty() && archive_write_data(writer_, content.data(), content.size()) !=
                                static_cast<la_ssize_t>(content.size()))
      fail("cannot write entry \"" + name + "\": " + archive_error_text(writer_));
    ++stats_.files;
    stats_.bytes += content.size();
  }

  void write_file(const fs::path& full, const std::string& rel) {
    // O_NOFOLLOW and fstat: what we store is what we stat, even if the tree
    // changes under us.
    UniqueFd fd(::open(full.c_str(), O_RDONLY | O_NOFOLLOW | O_CLOEXEC));
    if (!fd.valid()) fail("cannot open " + full.string() + ": " + errno_text(errno));
    struct stat st {};
    if (::fstat(fd.get(), &st) != 0 || !S_ISREG(st.st_mode)) {
      fail(full.string() + " changed while packing");
    }
    write_header(rel, st);

    std::array<char, kBlockSize> buffer;
    auto remaining = static_cast<std::uint64_t>(st.st_size);
    while (remaining > 0) {
      std::size_t want = std::min<std::uint64_t>(remaining, buffer.size());
      ssize_t n = ::read(fd.get(), buffer.data(), want);
      if (n < 0 && errno == EINTR) continue;
      if (n < 0) fail("cannot read " + full.string() + ": " + errno_text(errno));
      if (n == 0) fail(full.string() + " shrank while packing");
      if (archive_write_data(writer_, buffer.data(), static_cast<std::size_t>(n)) != n) {
        fail("cannot write entry \"" + rel + "\": " + archive_error_text(writer_));
      }
      remaining -= static_cast<std::uint64_t>(n);
    }
    ++stats_.files;
    stats_.bytes += static_cast<std::uint64_t>(st.st_size);
  }

  struct archive* writer_;
  const fs::path& root_;
  const PackWarning& warn_;
  const struct stat& output_;
  const std::map<std::string, std::string>& generated_;
  PackStats stats_;
};

}  // namespace

PackStats pack_directory(const fs::path& dir, const fs::path& archive_out, const PackWarning& warn,
                         const std::map<std::string, std::string>& generated) {
  std::error_code ec;
  if (!fs::is_directory(dir, ec)) fail(dir.string() + " is not a directory");

  WriteArchive writer(archive_write_new());
  if (!writer) fail("out of memory");
  if (archive_write_add_filter_gzip(writer.get()) != ARCHIVE_OK ||
      archive_write_set_format_pax_restricted(writer.get()) != ARCHIVE_OK) {
    fail("cannot set up archive writer: " + archive_error_text(writer.get()));
  }
  if (archive_write_open_filename(writer.get(), archive_out.c_str()) != ARCHIVE_OK) {
    fail("cannot create " + archive_out.string() + ": " + archive_error_text(writer.get()));
  }
  struct stat output {};
  if (::stat(archive_out.c_str(), &output) != 0) {
    fail("cannot stat " + archive_out.string() + ": " + errno_text(errno));
  }
  // Only a regular file is ours to delete on failure (never, say, a device).
  RemoveFileUnlessCommitted cleanup(S_ISREG(output.st_mode) ? archive_out : fs::path());

  PackStats stats = Packer(writer.get(), dir, warn, output, generated).run();
  if (archive_write_close(writer.get()) != ARCHIVE_OK) {
    fail("cannot finish " + archive_out.string() + ": " + archive_error_text(writer.get()));
  }
  cleanup.commit();
  return stats;
}

}  // namespace blockyard::bundle
