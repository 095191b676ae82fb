#include "backend/process/process_tree.h"

#include <charconv>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <system_error>

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
