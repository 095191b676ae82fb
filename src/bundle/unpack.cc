#include "bundle/unpack.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <cstring>
#include <new>
#include <string>
#include <system_error>

#include "bundle/archive_handle.h"
#include "bundle/entry_path.h"
#include "core/unique_fd.h"

namespace blockyard::bundle {
namespace {

constexpr mode_t kDirMode = 0755;
constexpr mode_t kFileMode = 0644;
constexpr std::size_t kBlockSize = 64 * 1024;
// Bounds on counting the entries of an archive over the entry limit.
constexpr std::size_t kMaxEntriesCounted = 10'000'000;
constexpr std::uint64_t kMaxBytesSkippedToCount = 64ull << 20;

[[noreturn]] void fail(const std::string& reason) {
  throw BundleError("bundle: " + reason);
}

[[noreturn]] void fail_entry(std::string_view name, const std::string& reason) {
  fail("entry " + quote_entry_name(name) + ": " + reason);
}

// A local failure (disk full, permissions) rather than a bad archive: a
// std::system_error, so callers can answer 500 instead of blaming the upload.
[[noreturn]] void fail_io(int err, const std::string& what) {
  throw std::system_error(err, std::generic_category(), "bundle: " + what);
}

[[noreturn]] void fail_entry_io(int err, std::string_view name, const std::string& what) {
  fail_io(err, "entry " + quote_entry_name(name) + ": " + what);
}

// Removes dest on scope exit unless the unpack completed.
class RemoveUnlessCommitted {
 public:
  explicit RemoveUnlessCommitted(std::filesystem::path dir) : dir_(std::move(dir)) {}
  RemoveUnlessCommitted(const RemoveUnlessCommitted&) = delete;
  RemoveUnlessCommitted& operator=(const RemoveUnlessCommitted&) = delete;
  ~RemoveUnlessCommitted() {
    if (committed_) return;
    std::error_code ignored;  // remove_all never follows symlinks
    std::filesystem::remove_all(dir_, ignored);
  }
  void commit() { committed_ = true; }

 private:
  std::filesystem::path dir_;
  bool committed_ = false;
};

// Cheap up-front check so non-gzip input gets a clear message instead of
// whatever libarchive's format probe would say.
void require_gzip_magic(int fd) {
  std::array<unsigned char, 2> magic{};
  ssize_t got = ::pread(fd, magic.data(), magic.size(), 0);
  if (got < 0) fail_io(errno, "cannot read archive");
  if (got != 2 || magic[0] != 0x1f || magic[1] != 0x8b) {
    fail("archive is not gzip-compressed (expected a .tar.gz)");
  }
}

const char* type_name(mode_t type) {
  switch (type) {
    case AE_IFLNK:
      return "symlinks are not allowed";
    case AE_IFCHR:
      return "character devices are not allowed";
    case AE_IFBLK:
      return "block devices are not allowed";
    case AE_IFIFO:
      return "fifos are not allowed";
    case AE_IFSOCK:
      return "sockets are not allowed";
    default:
      return "unsupported entry type";
  }
}

void write_all(int fd, const char* data, std::size_t size, std::string_view entry) {
  while (size > 0) {
    ssize_t n = ::write(fd, data, size);
    if (n < 0) {
      if (errno == EINTR) continue;
      fail_entry_io(errno, entry, "cannot write file");
    }
    data += n;
    size -= static_cast<std::size_t>(n);
  }
}

// Writes the entries of one archive beneath a directory fd, enforcing limits.
class Extractor {
 public:
  Extractor(struct archive* reader, int root_fd, const UnpackLimits& limits)
      : reader_(reader), root_fd_(root_fd), limits_(limits) {}

  void run() {
    for (;;) {
      struct archive_entry* entry = nullptr;
      int status = archive_read_next_header(reader_, &entry);
      if (status == ARCHIVE_EOF) break;
      if (status != ARCHIVE_OK && status != ARCHIVE_WARN) describe_read_failure(entries_ == 0);
      if (entries_ == 0 && archive_filter_code(reader_, 0) != ARCHIVE_FILTER_GZIP) {
        fail("archive is not gzip-compressed (expected a .tar.gz)");
      }
      if (++entries_ > limits_.max_entries) fail_entry_count();
      extract(entry);
    }
  }

 private:
  [[noreturn]] void describe_read_failure(bool at_start) {
    std::string detail = archive_error_text(reader_);
    if (at_start) fail("not a valid gzip-compressed tar archive: " + detail);
    fail("corrupt or truncated archive: " + detail);
  }

  // Over the entry limit: count the rest of the headers too, so the message
  // says how many there are, as long as that takes skipping little data.
  [[noreturn]] void fail_entry_count() {
    std::size_t count = entries_;
    std::uint64_t skipped = 0;
    bool complete = false;
    struct archive_entry* entry = nullptr;
    while (count < kMaxEntriesCounted && skipped <= kMaxBytesSkippedToCount) {
      int status = archive_read_next_header(reader_, &entry);
      if (status == ARCHIVE_EOF) {
        complete = true;
        break;
      }
      if (status != ARCHIVE_OK && status != ARCHIVE_WARN) break;
      ++count;
      if (archive_entry_size_is_set(entry) && archive_entry_size(entry) > 0) {
        skipped += static_cast<std::uint64_t>(archive_entry_size(entry));
      }
    }
    fail("archive has " + std::string(complete ? "" : "more than ") + std::to_string(count) +
         " entries; the limit is " + std::to_string(limits_.max_entries));
  }

  void extract(struct archive_entry* entry) {
    const char* raw_name = archive_entry_pathname(entry);
    if (raw_name == nullptr) fail("archive has an entry without a readable name");
    std::string name = raw_name;

    // Hard links are stored as regular-file headers that name a target.
    if (archive_entry_hardlink(entry) != nullptr) fail_entry(name, "hard links are not allowed");
    EntryPath path = parse_entry_path(name);
    if (!path.ok()) fail_entry(name, path.problem);

    // Check the declared size before decompressing anything: it bounds even
    // the data libarchive would skip for a directory with a body.
    std::uint64_t declared = 0;
    if (archive_entry_size_is_set(entry) && archive_entry_size(entry) > 0) {
      declared = static_cast<std::uint64_t>(archive_entry_size(entry));
    }
    check_size(declared, declared, name);

    mode_t type = archive_entry_filetype(entry);
    if (type == AE_IFDIR) {
      if (!path.is_root()) open_dirs(path.components, path.components.size(), name);
      total_bytes_ += declared;
    } else if (type == AE_IFREG) {
      if (path.is_root()) fail_entry(name, "a file cannot replace the bundle root");
      extract_file(path, name);
    } else {
      fail_entry(name, type_name(type));
    }
  }

  // Opens (creating as needed) the first `depth` components as directories,
  // never following a symlink, and returns the innermost one.
  UniqueFd open_dirs(const std::vector<std::string>& parts, std::size_t depth,
                     std::string_view entry) {
    UniqueFd current;
    int parent = root_fd_;
    for (std::size_t i = 0; i < depth; ++i) {
      // parse_entry_path already refused these; openat() would resolve ".."
      // to the parent without any symlink involved, so check again here.
      if (parts[i].empty() || parts[i] == "." || parts[i] == "..") {
        fail_entry(entry, "path escapes the bundle");
      }
      const char* part = parts[i].c_str();
      int fd = ::openat(parent, part, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
      if (fd < 0 && errno == ENOENT) {
        if (::mkdirat(parent, part, kDirMode) != 0 && errno != EEXIST) {
          if (errno == ENAMETOOLONG) fail_entry(entry, "name too long");
          fail_entry_io(errno, entry, "cannot create directory");
        }
        fd = ::openat(parent, part, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (fd >= 0 && ::fchmod(fd, kDirMode) != 0) {  // undo any restrictive umask
          int err = errno;
          ::close(fd);
          fail_entry_io(err, entry, "cannot set directory mode");
        }
      }
      if (fd < 0) {
        int err = errno;
        if (err == ENOTDIR || err == ELOOP) {
          fail_entry(entry, quote_entry_name(parts[i]) + " is already a file in the bundle");
        }
        fail_entry_io(err, entry, "cannot open directory");
      }
      current.reset(fd);
      parent = current.get();
    }
    return current;
  }

  void extract_file(const EntryPath& path, std::string_view name) {
    const auto& parts = path.components;
    UniqueFd parent_holder = open_dirs(parts, parts.size() - 1, name);
    int parent = parent_holder.valid() ? parent_holder.get() : root_fd_;
    if (parts.back() == "." || parts.back() == "..") fail_entry(name, "path escapes the bundle");
    UniqueFd file(::openat(parent, parts.back().c_str(),
                           O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, kFileMode));
    if (!file.valid()) {
      int err = errno;
      if (err == EISDIR) fail_entry(name, "a directory of that name is already in the bundle");
      if (err == ENAMETOOLONG) fail_entry(name, "name too long");
      fail_entry_io(err, name, "cannot create file");
    }
    if (::fchmod(file.get(), kFileMode) != 0) {
      fail_entry_io(errno, name, "cannot set file mode");
    }

    std::array<char, kBlockSize> buffer;
    std::uint64_t file_bytes = 0;
    for (;;) {
      la_ssize_t n = archive_read_data(reader_, buffer.data(), buffer.size());
      if (n == 0) break;
      if (n < 0) fail_entry(name, "corrupt or truncated archive: " + archive_error_text(reader_));
      auto count = static_cast<std::uint64_t>(n);
      file_bytes += count;
      total_bytes_ += count;
      check_size(file_bytes, 0, name);
      write_all(file.get(), buffer.data(), static_cast<std::size_t>(n), name);
    }
  }

  // `file_bytes` is this file's size so far; `extra_total` is added to the
  // running total for the check only (for a header's declared size).
  void check_size(std::uint64_t file_bytes, std::uint64_t extra_total, std::string_view name) {
    // Sizes are what is known without decompressing further (an archive
    // bomb would take long to measure): the header's declared size or the
    // bytes written so far.
    if (file_bytes > limits_.max_file_bytes) {
      fail_entry(name, "file is " + at_least(file_bytes, extra_total == 0) + " bytes; the limit is " +
                           std::to_string(limits_.max_file_bytes) + " bytes per file");
    }
    if (total_bytes_ + extra_total > limits_.max_total_bytes) {
      fail_entry(name, "bundle unpacks to at least " + std::to_string(total_bytes_ + extra_total) +
                           " bytes; the limit is " + std::to_string(limits_.max_total_bytes) +
                           " bytes");
    }
  }

  static std::string at_least(std::uint64_t bytes, bool partial) {
    return (partial ? "more than " : "") + std::to_string(bytes);
  }

  struct archive* reader_;
  int root_fd_;
  const UnpackLimits& limits_;
  std::size_t entries_ = 0;
  std::uint64_t total_bytes_ = 0;
};

}  // namespace

void unpack_bundle(const std::filesystem::path& archive, const std::filesystem::path& dest,
                   const UnpackLimits& limits) {
  UniqueFd input(::open(archive.c_str(), O_RDONLY | O_CLOEXEC));
  if (!input.valid()) fail_io(errno, "cannot open archive " + archive.string());
  require_gzip_magic(input.get());

  if (::mkdir(dest.c_str(), kDirMode) != 0) {
    fail_io(errno, "cannot create destination " + dest.string());
  }
  RemoveUnlessCommitted cleanup(dest);
  UniqueFd root(::open(dest.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
  if (!root.valid()) fail_io(errno, "cannot open destination");
  if (::fchmod(root.get(), kDirMode) != 0) fail_io(errno, "cannot set destination mode");

  ReadArchive reader(archive_read_new());
  if (!reader) throw std::bad_alloc();
  archive_read_support_filter_gzip(reader.get());
  archive_read_support_format_tar(reader.get());
  if (archive_read_open_fd(reader.get(), input.get(), kBlockSize) != ARCHIVE_OK) {
    fail("not a valid gzip-compressed tar archive: " + archive_error_text(reader.get()));
  }
  Extractor(reader.get(), root.get(), limits).run();
  cleanup.commit();
}

}  // namespace blockyard::bundle
