// Finding a backend's sandboxes among all host processes. Every bwrap the
// backend starts carries the environment entry
//   BLOCKYARD_SANDBOX=<instance>/<worker>
// where <instance> is derived from the backend's state_dir. The sandboxed
// program never sees it (bwrap --clearenv), so it cannot forge or remove the
// marker of its own supervisor; a crashed server's successor finds its
// predecessor's sandboxes by it even when no cgroup is available.
#pragma once

#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

namespace blockyard::backend::process {

inline constexpr const char* kSandboxMarkerName = "BLOCKYARD_SANDBOX";

// 16 hex digits naming a backend instance (stable for one state_dir).
std::string instance_key(const std::filesystem::path& state_dir);

// "BLOCKYARD_SANDBOX=<instance>/<worker>".
std::string sandbox_marker(const std::string& instance, const std::string& worker);

// Pids of processes whose environment holds a marker of `instance`, paired
// with the worker name in the marker. A snapshot; unreadable processes are skipped.
std::vector<std::pair<int, std::string>> find_marked_processes(const std::string& instance);

// True for a worker id usable as a file and cgroup name: 1..128 characters
// from [A-Za-z0-9._-], not starting with '.'.
bool is_safe_worker_name(std::string_view id);

}  // namespace blockyard::backend::process
