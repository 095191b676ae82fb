// The worker sandbox's file system, as bwrap arguments: the host root
// read-only, private /proc, /dev and /tmp, and the bundle read-only at the
// bundle mount point (storage.bundle_worker_path, "/app" by default) — or,
// for build jobs, several binds (bundle, output directory, caches).
//
// bwrap cannot create a mount point inside a read-only bind of "/", and the
// original fails when the mount point is missing on the host. Here, when a
// mount point does not exist, the sandbox root is a tmpfs instead: every
// entry of the host root is bound read-only into it (symlinks recreated),
// the directories leading to the mount points are rebuilt entry by entry, the
// binds are made, and the tmpfs root is then remounted read-only. The host is
// never modified.
#pragma once

#include <filesystem>
#include <string>
#include <vector>

namespace blockyard::backend::process {

// What the sandbox gets at /proc. kFresh: a new procfs of the sandbox's own
// PID namespace (needs a fully visible /proc: container runtimes' masks make
// the kernel refuse it). kEmpty: an empty read-only directory; the PID
// namespace still hides every outside process, but the worker has no /proc
// ([process] worker_procfs = "none", see docs/containerized-mode.md).
enum class ProcMount { kFresh, kEmpty };

// One bind of a host directory at `target` inside the sandbox.
struct SandboxBind {
  std::filesystem::path source;  // host path
  std::filesystem::path target;  // absolute, normalised sandbox path
  bool read_only = true;
};

// The general form: every bind in order. Targets must not contain one
// another. `hidden_paths` as below (a path holding a target stays visible).
// Throws std::invalid_argument as below, for any target.
std::vector<std::string> sandbox_mount_args(
    const std::vector<SandboxBind>& binds, const std::filesystem::path& host_root = "/",
    const std::vector<std::filesystem::path>& hidden_paths = {},
    ProcMount proc = ProcMount::kFresh);

// [process] worker_procfs: "none" is kEmpty, anything else kFresh (the
// config loader accepts only "fresh" and "none").
ProcMount proc_mount_for(const std::string& worker_procfs);

// The /proc part of the arguments alone (also used by preflight's probes).
std::vector<std::string> proc_mount_args(ProcMount proc);

// `hidden_paths` (the server's data directories) are covered by an empty
// read-only tmpfs inside the sandbox, unless they are under /tmp (already
// private), missing, or contain the mount point.
// Throws std::invalid_argument when `mount_point` is not an absolute,
// normalised path, is "/" or "/tmp", lies under /proc, /dev or /sys, or an
// existing path component is not a directory.
std::vector<std::string> sandbox_mount_args(
    const std::filesystem::path& bundle_host_path, const std::filesystem::path& mount_point,
    const std::filesystem::path& host_root = "/",
    const std::vector<std::filesystem::path>& hidden_paths = {});

// True when sandbox_mount_args() builds the root from a tmpfs (mount point
// missing on the host) rather than binding the host root.
bool needs_tmpfs_root(const std::filesystem::path& mount_point,
                      const std::filesystem::path& host_root = "/");
bool needs_tmpfs_root(const std::vector<SandboxBind>& binds,
                      const std::filesystem::path& host_root = "/");

}  // namespace blockyard::backend::process
