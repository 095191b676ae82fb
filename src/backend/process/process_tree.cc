#include "backend/process/process_tree.h"

#include <charconv>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <system_error>

#include <unistd.h>

namespace blockyard::backend::process {
namespace fs = std::filesystem;

namespace {

// Fields of /proc/<pid>/stat after the command name, which may itself hold
// spaces and parentheses (hence: after the LAST ')').
std::vector<std::string> stat_fields_after_comm(int pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  const auto close = text.rfind(')');
  if (close == std::string::npos) return {};
  std::istringstream rest(text.substr(close + 1));
  std::vector<std::string> fields;
  for (std::string f; rest >> f;) fields.push_back(f);
  return fields;  // [0] = state, [1] = ppid, ...
}

std::vector<int> children_of(int pid) {
  std::vector<int> out;
  std::error_code ec;
  const fs::path tasks = "/proc/" + std::to_string(pid) + "/task";
  for (const auto& task : fs::directory_iterator(tasks, ec)) {
    std::ifstream in(task.path() / "children");
    for (int child; in >> child;) out.push_back(child);
  }
  return out;
}

}  // namespace

std::vector<int> descendants(int pid) {
  std::vector<int> out = children_of(pid);
  for (std::size_t i = 0; i < out.size(); ++i) {
    for (int grandchild : children_of(out[i])) out.push_back(grandchild);
  }
  return out;
}

int parent_of(int pid) {
  const auto fields = stat_fields_after_comm(pid);
  if (fields.size() < 2) return 0;
  return std::atoi(fields[1].c_str());
}

bool process_alive(int pid) {
  if (pid <= 0) return false;
  const auto fields = stat_fields_after_comm(pid);
  return !fields.empty() && fields[0] != "Z" && fields[0] != "X";
}

ProcessUsage process_usage(const std::vector<int>& pids) {
  static const long ticks_per_second = ::sysconf(_SC_CLK_TCK);
  static const long page_size = ::sysconf(_SC_PAGESIZE);
  ProcessUsage u;
  for (int pid : pids) {
    const auto fields = stat_fields_after_comm(pid);
    // [11..14] = utime, stime, cutime, cstime (fields 14-17 of stat(5)).
    if (fields.size() < 15 || fields[0] == "Z" || fields[0] == "X") continue;
    std::ifstream statm("/proc/" + std::to_string(pid) + "/statm");
    std::uint64_t size = 0, resident = 0;
    if (!(statm >> size >> resident)) continue;
    double ticks = 0;
    for (int i = 11; i <= 14; ++i) ticks += std::strtod(fields[i].c_str(), nullptr);
    u.cpu_seconds += ticks / static_cast<double>(ticks_per_second);
    u.rss_bytes += resident * static_cast<std::uint64_t>(page_size);
    ++u.processes;
  }
  return u;
}

int parse_bwrap_child_pid(std::string_view info_json) {
  constexpr std::string_view key = "\"child-pid\"";
  auto pos = info_json.find(key);
  if (pos == std::string_view::npos) return 0;
  pos = info_json.find(':', pos + key.size());
  if (pos == std::string_view::npos) return 0;
  pos = info_json.find_first_not_of(" \t\r\n", pos + 1);
  if (pos == std::string_view::npos) return 0;
  int pid = 0;
  const auto* begin = info_json.data() + pos;
  const auto [end, ec] = std::from_chars(begin, info_json.data() + info_json.size(), pid);
  return ec == std::errc() && end != begin && pid > 0 ? pid : 0;
}

}  // namespace blockyard::backend::process
