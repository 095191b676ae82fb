#include "restore/r_installations.h"

#include <unistd.h>

#include <vector>

namespace blockyard::restore {

namespace {

namespace fs = std::filesystem;

bool executable(const fs::path& p) {
  std::error_code ec;
  return fs::is_regular_file(p, ec) && ::access(p.c_str(), X_OK) == 0;
}

// "4.3.10" -> {4, 3, 10}; non-numeric parts read as -1.
std::vector<int> version_parts(const std::string& v) {
  std::vector<int> parts;
  std::size_t start = 0;
  while (start <= v.size()) {
    const auto dot = v.find_first_of(".-", start);
    const std::string part = v.substr(start, dot == std::string::npos ? dot : dot - start);
    try {
      parts.push_back(part.empty() ? -1 : std::stoi(part));
    } catch (const std::exception&) {
      parts.push_back(-1);
    }
    start = dot == std::string::npos ? v.size() + 1 : dot + 1;
  }
  return parts;
}

std::string minor_of(const std::string& v) {
  const auto first = v.find('.');
  if (first == std::string::npos) return v;
  return v.substr(0, v.find('.', first + 1));
}

}  // namespace

RChoice choose_r(const std::string& requested, const fs::path& server_r,
                 const fs::path& versions_dir) {
  RChoice choice{server_r, "", false};
  if (requested.empty()) return choice;
  if (!versions_dir.empty()) {
    const fs::path exact = versions_dir / requested / "bin" / "R";
    if (requested.find('/') == std::string::npos && executable(exact)) {
      choice.r_path = exact;
      choice.note = "R " + requested + " (" + exact.string() + ")";
      return choice;
    }
    std::error_code ec;
    std::string best;
    for (const auto& dir : fs::directory_iterator(versions_dir, ec)) {
      const std::string name = dir.path().filename().string();
      if (minor_of(name) != minor_of(requested) || !executable(dir.path() / "bin" / "R")) continue;
      if (best.empty() || version_parts(name) > version_parts(best)) best = name;
    }
    if (!best.empty()) {
      choice.r_path = versions_dir / best / "bin" / "R";
      choice.note = "R " + requested + " is not installed; using R " + best + " (" +
                    choice.r_path.string() + "), the newest of the same minor version";
      return choice;
    }
  }
  choice.fallback = true;
  choice.note = "WARNING: the app asks for R " + requested + ", which is not installed under " +
                versions_dir.string() + "; using the server's R (" + server_r.string() + ")";
  return choice;
}

}  // namespace blockyard::restore
