#include "bundle/entry_path.h"

#include <cstdio>

namespace blockyard::bundle {

EntryPath parse_entry_path(std::string_view name) {
  EntryPath result;
  if (name.empty()) {
    result.problem = "empty path";
    return result;
  }
  if (name.front() == '/') {
    result.problem = "absolute paths are not allowed";
    return result;
  }
  std::size_t start = 0;
  while (start <= name.size()) {
    std::size_t end = name.find('/', start);
    if (end == std::string_view::npos) end = name.size();
    std::string_view part = name.substr(start, end - start);
    if (part == "..") {
      result.components.clear();
      result.problem = "path escapes the bundle";
      return result;
    }
    if (!part.empty() && part != ".") result.components.emplace_back(part);
    start = end + 1;
  }
  return result;
}

std::string quote_entry_name(std::string_view name) {
  constexpr std::size_t kMaxShown = 200;
  std::string out = "\"";
  for (std::size_t i = 0; i < name.size() && i < kMaxShown; ++i) {
    auto byte = static_cast<unsigned char>(name[i]);
    if (byte < 0x20 || byte >= 0x7f || byte == '"' || byte == '\\') {
      char escaped[5];
      std::snprintf(escaped, sizeof escaped, "\\x%02x", byte);
      out += escaped;
    } else {
      out += static_cast<char>(byte);
    }
  }
  if (name.size() > kMaxShown) out += "...";
  out += '"';
  return out;
}

}  // namespace blockyard::bundle
