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

bool leads_to(const fs::path& dir, const std::vector<SandboxBind>& binds) {
  return std::any_of(binds.begin(), binds.end(), [&](const SandboxBind& b) {
    return b.target != dir && is_under(b.target, dir);
  });
}

bool is_target(const fs::path& p, const std::vector<SandboxBind>& binds) {
  return std::any_of(binds.begin(), binds.end(),
                     [&](const SandboxBind& b) { return b.target == p; });
}

// Rebuilds sandbox directory `dir` in the tmpfs root: binds (or re-creates,
// for symlinks) every entry except the mount points; directories leading to
// a mount point are recreated empty and filled the same way.
void bind_tree(std::vector<std::string>& args, const fs::path& host_root, const fs::path& dir,
               const std::vector<SandboxBind>& binds) {
  std::vector<fs::path> entries;
  for (const auto& e : fs::directory_iterator(on_host(host_root, dir)))
    entries.push_back(dir / e.path().filename());
  std::sort(entries.begin(), entries.end());
  std::vector<fs::path> descend;
  for (const auto& sandbox_path : entries) {
    const std::string name = sandbox_path.filename().string();
    if (dir == "/" && (name == "proc" || name == "dev" || name == "tmp")) continue;
    const fs::path host_path = on_host(host_root, sandbox_path);
    std::error_code ec;
    const auto st = fs::symlink_status(host_path, ec);
    const bool target = is_target(sandbox_path, binds);
    const bool leads = leads_to(sandbox_path, binds);
    if (target || leads) {
      if (fs::is_symlink(st))
        throw std::invalid_argument("mount point " + sandbox_path.string() +
                                    " is a symlink on the host; use the real path");
      if (!fs::is_directory(st))
        throw std::invalid_argument("mount point " + sandbox_path.string() +
                                    " exists but is not a directory");
      if (!target) descend.push_back(sandbox_path);
    } else if (fs::is_symlink(st)) {
      args.insert(args.end(),
                  {"--symlink", fs::read_symlink(host_path).string(), sandbox_path.string()});
    } else {
      args.insert(args.end(), {"--ro-bind", host_path.string(), sandbox_path.string()});
    }
  }
  // Missing directories on the way to a mount point are created by bwrap inside the tmpfs.
  for (const auto& d : descend) {
    args.insert(args.end(), {"--dir", d.string()});
    bind_tree(args, host_root, d, binds);
  }
}

void validate_binds(const std::vector<SandboxBind>& binds) {
  for (std::size_t i = 0; i < binds.size(); ++i) {
    validate_mount_point(binds[i].target);
    for (std::size_t j = 0; j < i; ++j)
      if (is_under(binds[i].target, binds[j].target) || is_under(binds[j].target, binds[i].target))
        throw std::invalid_argument("mount points " + binds[j].target.string() + " and " +
                                    binds[i].target.string() + " contain one another");
  }
}

}  // namespace

bool needs_tmpfs_root(const fs::path& mount_point, const fs::path& host_root) {
  if (is_under(mount_point, "/tmp")) return false;  // bwrap creates it inside the /tmp tmpfs
  std::error_code ec;
  return !fs::is_directory(on_host(host_root, mount_point), ec);
}

bool needs_tmpfs_root(const std::vector<SandboxBind>& binds, const fs::path& host_root) {
  return std::any_of(binds.begin(), binds.end(),
                     [&](const SandboxBind& b) { return needs_tmpfs_root(b.target, host_root); });
}

std::vector<std::string> sandbox_mount_args(const fs::path& bundle_host_path,
                                            const fs::path& mount_point, const fs::path& host_root,
                                            const std::vector<fs::path>& hidden_paths) {
  return sandbox_mount_args({SandboxBind{bundle_host_path, mount_point, true}}, host_root,
                            hidden_paths);
}

ProcMount proc_mount_for(const std::string& worker_procfs) {
  return worker_procfs == "none" ? ProcMount::kEmpty : ProcMount::kFresh;
}

std::vector<std::string> proc_mount_args(ProcMount proc) {
  if (proc == ProcMount::kFresh) return {"--proc", "/proc"};
  // Covers whatever the bound root has at /proc (the container's own procfs).
  return {"--perms", "0555", "--tmpfs", "/proc", "--remount-ro", "/proc"};
}

std::vector<std::string> sandbox_mount_args(const std::vector<SandboxBind>& binds,
                                            const fs::path& host_root,
                                            const std::vector<fs::path>& hidden_paths,
                                            ProcMount proc) {
  validate_binds(binds);
  std::vector<std::string> args;
  const bool tmpfs_root = needs_tmpfs_root(binds, host_root);
  if (!tmpfs_root) {
    args.insert(args.end(), {"--ro-bind", host_root.string(), "/"});
  } else {
    bind_tree(args, host_root, "/", binds);
  }
  const auto proc_args = proc_mount_args(proc);
  args.insert(args.end(), proc_args.begin(), proc_args.end());
  args.insert(args.end(), {"--dev", "/dev", "--tmpfs", "/tmp"});
  for (const auto& hidden : hidden_paths) {
    // An empty, unreadable, read-only tmpfs over the server's own data; bind sources are
    // resolved on the host, so the binds below still find their files.
    std::error_code ec;
    const bool holds_target = std::any_of(binds.begin(), binds.end(), [&](const SandboxBind& b) {
      return is_under(b.target, hidden);
    });
    if (!hidden.is_absolute() || hidden == "/" || is_under(hidden, "/tmp") || holds_target ||
        !fs::is_directory(on_host(host_root, hidden), ec)) {
      continue;
    }
    args.insert(args.end(),
                {"--perms", "0000", "--tmpfs", hidden.string(), "--remount-ro", hidden.string()});
  }
  for (const auto& b : binds)
    args.insert(args.end(),
                {b.read_only ? "--ro-bind" : "--bind", b.source.string(), b.target.string()});
  if (tmpfs_root) args.insert(args.end(), {"--remount-ro", "/"});
  return args;
}

}  // namespace blockyard::backend::process
