#include "bundle/bundle_runtime.h"

#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <stdexcept>

namespace blockyard::bundle {

namespace fs = std::filesystem;
using nlohmann::json;

fs::path runtime_file(const fs::path& bundle_dir) {
  fs::path p = bundle_dir;
  while (p.has_parent_path() && p.filename().empty()) p = p.parent_path();  // "dir/" -> "dir"
  return p.string() + ".runtime.json";
}

void write_bundle_runtime(const fs::path& bundle_dir, const BundleRuntime& r) {
  json packages = json::array();
  for (const auto& p : r.packages)
    packages.push_back({{"package", p.package},
                        {"version", p.version},
                        {"origin", p.origin},
                        {"source", p.source},
                        {"requested", p.requested}});
  const json j{{"r_path", r.r_path.string()}, {"r_version", r.r_version},
               {"platform", r.platform},      {"store_root", r.store_root.string()},
               {"library", r.library},        {"packages", packages}};
  const fs::path file = runtime_file(bundle_dir);
  const fs::path tmp = file.string() + ".tmp";
  {
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    out << j.dump(2) << "\n";
    if (!out) throw std::runtime_error("cannot write " + tmp.string());
  }
  fs::rename(tmp, file);
}

std::optional<BundleRuntime> read_bundle_runtime(const fs::path& bundle_dir) {
  const fs::path file = runtime_file(bundle_dir);
  std::ifstream in(file, std::ios::binary);
  if (!in) return std::nullopt;
  try {
    const json j = json::parse(in);
    BundleRuntime r;
    r.r_path = j.value("r_path", "");
    r.r_version = j.value("r_version", "");
    r.platform = j.value("platform", "");
    r.store_root = j.value("store_root", "");
    r.library = j.value("library", "");
    for (const auto& p : j.value("packages", json::array()))
      r.packages.push_back({p.value("package", ""), p.value("version", ""), p.value("origin", ""),
                            p.value("source", ""), p.value("requested", false)});
    return r;
  } catch (const json::exception& e) {
    throw std::runtime_error(file.string() + ": " + e.what());
  }
}

}  // namespace blockyard::bundle
