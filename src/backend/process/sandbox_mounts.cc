#include "backend/process/sandbox_mounts.h"

#include <algorithm>
#include <stdexcept>
#include <system_error>

namespace blockyard::backend::process {
namespace fs = std::filesystem;

namespace {

// Host path of sandbox path `p` ("/usr" under host root "/x" is "/x/usr").
fs::path on_host(const fs::path& host_root, const fs::path& p) {
  return host_root / p.relative_path();
}

bool is_under(const fs::path& p, const fs::path& dir) {
  auto [d, q] = std::mismatch(dir.begin(), dir.end(), p.begin(), p.end());
  return d == dir.end();
}

void validate_mount_point(const fs::path& m) {
  if (m.empty() || !m.is_absolute() || m.lexically_normal() != m || m.filename().empty())
    throw std::invalid_argument("bundle mount point must be an absolute, normalised path: \"" +
                                m.string() + "\"");
  if (m == "/" || m == "/tmp")
    throw std::invalid_argument("bundle mount point cannot be " + m.string());
  for (const char* reserved : {"/proc", "/dev", "/sys"})
    if (is_under(m, reserved))
      throw std::invalid_argument("bundle mount point cannot be under " + std::string(reserved));
}

// Binds (or re-creates, for symlinks) every entry of sandbox directory `dir`
// except `skip` and the names in `top_level_skips`.
void bind_entries(std::vector<std::string>& args, const fs::path& host_root, const fs::path& dir,
                  const fs::path& skip, bool top_level) {
  std::vector<fs::path> entries;
  for (const auto& e : fs::directory_iterator(on_host(host_root, dir)))
    entries.push_back(dir / e.path().filename());
  std::sort(entries.begin(), entries.end());
  for (const auto& sandbox_path : entries) {
    if (sandbox_path == skip) continue;
    const std::string name = sandbox_path.filename().string();
    if (top_level && (name == "proc" || name == "dev" || name == "tmp")) continue;
    const fs::path host_path = on_host(host_root, sandbox_path);
    std::error_code ec;
    if (fs::is_symlink(fs::symlink_status(host_path, ec))) {
      args.insert(args.end(),
                  {"--symlink", fs::read_symlink(host_path).string(), sandbox_path.string()});
    } else {
      args.insert(args.end(), {"--ro-bind", host_path.string(), sandbox_path.string()});
    }
  }
}

}  // namespace

bool needs_tmpfs_root(const fs::path& mount_point, const fs::path& host_root) {
  if (is_under(mount_point, "/tmp")) return false;  // bwrap creates it inside the /tmp tmpfs
  std::error_code ec;
  return !fs::is_directory(on_host(host_root, mount_point), ec);
}

std::vector<std::string> sandbox_mount_args(const fs::path& bundle_host_path,
                                            const fs::path& mount_point, const fs::path& host_root,
                                            const std::vector<fs::path>& hidden_paths) {
  validate_mount_point(mount_point);
  std::vector<std::string> args;
  const bool tmpfs_root = needs_tmpfs_root(mount_point, host_root);
  if (!tmpfs_root) {
    std::error_code ec;
    if (fs::exists(on_host(host_root, mount_point), ec) &&
        !fs::is_directory(on_host(host_root, mount_point), ec))
      throw std::invalid_argument("bundle mount point " + mount_point.string() +
                                  " exists but is not a directory");
    args.insert(args.end(), {"--ro-bind", host_root.string(), "/"});
  } else {
    // Walk from "/" towards the mount point while the host has the path:
    // bind every sibling, descend into the component on the way.
    fs::path dir = "/";
    for (auto it = std::next(mount_point.begin()); it != mount_point.end(); ++it) {
      const fs::path next = dir / *it;
      const fs::path host_next = on_host(host_root, next);
      std::error_code ec;
      const auto st = fs::symlink_status(host_next, ec);
      if (fs::is_symlink(st))
        throw std::invalid_argument("bundle mount point " + mount_point.string() + ": " +
                                    next.string() + " is a symlink; use the real path");
      if (fs::exists(st) && !fs::is_directory(st))
        throw std::invalid_argument("bundle mount point " + mount_point.string() + ": " +
                                    next.string() + " exists but is not a directory");
      bind_entries(args, host_root, dir, next, dir == "/");
      if (!fs::exists(st)) break;  // the rest is created inside the tmpfs root
      args.insert(args.end(), {"--dir", next.string()});
      dir = next;
    }
  }
  args.insert(args.end(), {"--proc", "/proc", "--dev", "/dev", "--tmpfs", "/tmp"});
  for (const auto& hidden : hidden_paths) {
    // An empty, unreadable, read-only tmpfs over the server's own data; bind sources are
    // resolved on the host, so the bundle bind below still finds its files.
    std::error_code ec;
    if (!hidden.is_absolute() || hidden == "/" || is_under(hidden, "/tmp") ||
        is_under(mount_point, hidden) || !fs::is_directory(on_host(host_root, hidden), ec)) {
      continue;
    }
    args.insert(args.end(),
                {"--perms", "0000", "--tmpfs", hidden.string(), "--remount-ro", hidden.string()});
  }
  args.insert(args.end(), {"--ro-bind", bundle_host_path.string(), mount_point.string()});
  if (tmpfs_root) args.insert(args.end(), {"--remount-ro", "/"});
  return args;
}

}  // namespace blockyard::backend::process
