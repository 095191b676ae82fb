#include "backend/process/sandbox_marker.h"

#include <cstdint>
#include <cstdio>
#include <fstream>
#include <iterator>

namespace blockyard::backend::process {

namespace fs = std::filesystem;

std::string instance_key(const fs::path& state_dir) {
  // FNV-1a: stable across builds and runs (std::hash promises neither).
  std::uint64_t h = 14695981039346656037ULL;
  const std::string path =
      state_dir.empty() ? std::string() : fs::absolute(state_dir).lexically_normal().string();
  for (unsigned char c : path) {
    h ^= c;
    h *= 1099511628211ULL;
  }
  char text[17];
  std::snprintf(text, sizeof text, "%016llx", static_cast<unsigned long long>(h));
  return text;
}

std::string sandbox_marker(const std::string& instance, const std::string& worker) {
  return std::string(kSandboxMarkerName) + "=" + instance + "/" + worker;
}

std::vector<std::pair<int, std::string>> find_marked_processes(const std::string& instance) {
  const std::string prefix = std::string(kSandboxMarkerName) + "=" + instance + "/";
  std::vector<std::pair<int, std::string>> out;
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator("/proc", ec)) {
    const std::string name = entry.path().filename().string();
    if (name.empty() || name.find_first_not_of("0123456789") != std::string::npos) continue;
    std::ifstream in(entry.path() / "environ", std::ios::binary);
    const std::string env((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    for (std::size_t pos = 0; pos < env.size();) {
      const std::size_t end = std::min(env.find('\0', pos), env.size());
      if (env.compare(pos, prefix.size(), prefix) == 0) {
        out.emplace_back(std::stoi(name),
                         env.substr(pos + prefix.size(), end - pos - prefix.size()));
        break;
      }
      pos = end + 1;
    }
  }
  return out;
}

bool is_safe_worker_name(std::string_view id) {
  if (id.empty() || id.size() > 128 || id.front() == '.') return false;
  for (char c : id) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                    c == '.' || c == '_' || c == '-';
    if (!ok) return false;
  }
  return true;
}

}  // namespace blockyard::backend::process
