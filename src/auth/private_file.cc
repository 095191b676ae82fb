#include "auth/private_file.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <string>
#include <system_error>

#include "core/crypto.h"

namespace blockyard::auth {
namespace {

[[noreturn]] void throw_errno(const std::string& what, const std::filesystem::path& path) {
  throw std::system_error(errno, std::generic_category(), what + " " + path.string());
}

// Owns one file descriptor.
class UniqueFd {
 public:
  explicit UniqueFd(int fd) : fd_(fd) {}
  ~UniqueFd() { reset(); }
  UniqueFd(const UniqueFd&) = delete;
  UniqueFd& operator=(const UniqueFd&) = delete;

  int get() const { return fd_; }
  // Closes now and reports close(2)'s result (it can surface write errors).
  int reset() {
    int rc = fd_ >= 0 ? ::close(fd_) : 0;
    fd_ = -1;
    return rc;
  }

 private:
  int fd_;
};

// Deletes the temp file unless the rename consumed it.
class TempFileGuard {
 public:
  explicit TempFileGuard(std::filesystem::path path) : path_(std::move(path)) {}
  ~TempFileGuard() {
    if (!path_.empty()) ::unlink(path_.c_str());
  }
  TempFileGuard(const TempFileGuard&) = delete;
  TempFileGuard& operator=(const TempFileGuard&) = delete;
  void release() { path_.clear(); }

 private:
  std::filesystem::path path_;
};

void write_all(int fd, std::string_view content, const std::filesystem::path& path) {
  while (!content.empty()) {
    ssize_t n = ::write(fd, content.data(), content.size());
    if (n < 0) {
      if (errno == EINTR) continue;
      throw_errno("write", path);
    }
    content.remove_prefix(static_cast<std::size_t>(n));
  }
}

}  // namespace

void create_private_directories(const std::filesystem::path& dir) {
  if (dir.empty()) return;
  std::filesystem::path partial;
  for (const auto& part : dir) {
    partial /= part;
    if (::mkdir(partial.c_str(), 0700) == 0) {
      // The umask may have removed owner bits we need.
      if (::chmod(partial.c_str(), 0700) != 0) throw_errno("chmod", partial);
    } else if (errno != EEXIST) {
      throw_errno("mkdir", partial);
    }
  }
  if (!std::filesystem::is_directory(dir)) {
    throw std::system_error(std::make_error_code(std::errc::not_a_directory),
                            "mkdir " + dir.string());
  }
}

void write_private_file(const std::filesystem::path& path, std::string_view content) {
  std::filesystem::path dir = path.parent_path();
  create_private_directories(dir);
  std::filesystem::path temp =
      (dir.empty() ? std::filesystem::path(".") : dir) /
      ("." + path.filename().string() + ".tmp-" + base62_encode(random_bytes(8)));

  UniqueFd fd(::open(temp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600));
  if (fd.get() < 0) throw_errno("create", temp);
  TempFileGuard guard(temp);
  // The umask can only remove bits; make the mode exactly 0600 regardless.
  if (::fchmod(fd.get(), 0600) != 0) throw_errno("chmod", temp);
  write_all(fd.get(), content, temp);
  if (::fsync(fd.get()) != 0) throw_errno("fsync", temp);
  if (fd.reset() != 0) throw_errno("close", temp);
  if (::rename(temp.c_str(), path.c_str()) != 0) throw_errno("rename to", path);
  guard.release();
}

}  // namespace blockyard::auth
