#include "bundle/dependency_source.h"

#include <fstream>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>

#include "bundle/bundle_error.h"
#include "bundle/dcf.h"
#include "bundle/script_scan.h"
#include "core/crypto.h"

namespace blockyard::bundle {

namespace {

namespace fs = std::filesystem;
using nlohmann::json;

bool regular_file_here(const fs::path& dir, const char* name) {
  std::error_code ec;
  return fs::symlink_status(dir / name, ec).type() == fs::file_type::regular;
}

std::string read_file(const fs::path& file) {
  std::ifstream in(file, std::ios::binary);
  if (!in) throw BundleError(file.filename().string() + ": cannot be read");
  std::stringstream buffer;
  buffer << in.rdbuf();
  return buffer.str();
}

std::string json_string(const json& object, const char* key) {
  auto it = object.find(key);
  return it != object.end() && it->is_string() ? it->get<std::string>() : "";
}

std::string entrypoint_of(const fs::path& dir) {
  if (regular_file_here(dir, "app.R") || !regular_file_here(dir, "server.R")) return "app.R";
  return "server.R";
}

}  // namespace

std::string_view dependency_source_name(DependencySource source) {
  switch (source) {
    case DependencySource::manifest:
      return "manifest.json";
    case DependencySource::renv_lock:
      return "renv.lock";
    case DependencySource::description:
      return "DESCRIPTION";
    case DependencySource::scripts:
      break;
  }
  return "scripts";
}

Manifest manifest_from_renv_lock(std::string_view text) {
  json j;
  try {
    j = json::parse(text);
  } catch (const json::parse_error& e) {
    throw BundleError(std::string("renv.lock: not valid JSON: ") + e.what());
  }
  if (!j.is_object()) throw BundleError("renv.lock: the top level must be an object");
  // The same manifest as JSON, from the fields a manifest keeps; parsing it
  // applies the manifest's own rules.
  json m{{"version", 1}, {"metadata", {{"appmode", "shiny"}, {"entrypoint", "app.R"}}}};
  json repositories = json::array();
  if (auto r = j.find("R"); r != j.end() && r->is_object()) {
    m["r_version"] = json_string(*r, "Version");
    if (auto repos = r->find("Repositories"); repos != r->end() && repos->is_array()) {
      for (const auto& repo : *repos) {
        if (!repo.is_object()) continue;
        std::string url = json_string(repo, "URL");
        while (url.size() > 1 && url.back() == '/') url.pop_back();
        repositories.push_back({{"Name", json_string(repo, "Name")}, {"URL", url}});
      }
    }
  }
  m["repositories"] = repositories;
  if (auto bioc = j.find("Bioconductor"); bioc != j.end() && bioc->is_object())
    m["bioconductor_version"] = json_string(*bioc, "Version");
  auto packages = j.find("Packages");
  if (packages == j.end() || !packages->is_object())
    throw BundleError("renv.lock: Packages is missing");
  json records = json::object();
  for (const auto& [key, value] : packages->items()) {
    // renv records itself; an app run by blockyard does not need it.
    if (key == "renv") continue;
    if (!value.is_object())
      throw BundleError("renv.lock: package \"" + key + "\" is not an object");
    // String fields only (renv's Requirements, Hash and others are dropped
    // by the manifest parser, which reads the fields it knows).
    json record{{"Package", key}};
    for (const auto& [field, v] : value.items())
      if (v.is_string() && !v.get<std::string>().empty()) record[field] = v;
    records[key] = record;
  }
  if (records.empty()) throw BundleError("renv.lock: Packages is empty");
  m["packages"] = records;
  try {
    return parse_manifest(m.dump());
  } catch (const BundleError& e) {
    // "invalid manifest: package ..." reads as "renv.lock: package ...".
    std::string reason = e.what();
    const std::string prefix = "invalid manifest: ";
    if (reason.starts_with(prefix)) reason.erase(0, prefix.size());
    throw BundleError("renv.lock: " + reason);
  }
}

Manifest manifest_from_description(std::string_view text) {
  const auto records = parse_dcf(text, "DESCRIPTION");
  if (records.empty()) throw BundleError("DESCRIPTION: no fields");
  Manifest m;
  for (const char* field : {"Depends", "Imports", "LinkingTo", "Remotes"}) {
    auto it = records.front().find(field);
    if (it == records.front().end()) continue;
    if (std::string_view(field) != "Remotes") {
      try {
        parse_dependency_field(it->second);
      } catch (const BundleError& e) {
        throw BundleError(std::string("DESCRIPTION: ") + field + ": " + e.what());
      }
    }
    m.description[field] = it->second;
  }
  return m;
}

std::vector<std::string> requested_packages(const Manifest& manifest) {
  std::set<std::string> names;
  for (const auto& [name, record] : manifest.packages) names.insert(name);
  for (const auto& [field, value] : manifest.description) {
    if (field == "Remotes") continue;
    for (const auto& dep : parse_dependency_field(value))
      if (!is_base_package(dep.package)) names.insert(dep.package);
  }
  return {names.begin(), names.end()};
}

std::map<std::string, std::string> file_checksums(const fs::path& dir) {
  std::map<std::string, std::string> sums;
  std::error_code ec;
  fs::recursive_directory_iterator it(dir, fs::directory_options::none, ec), end;
  for (; !ec && it != end; it.increment(ec)) {
    const std::string name = it->path().filename().string();
    if (it->is_directory(ec)) {
      if (name.starts_with(".") || (it.depth() == 0 && name == "renv"))
        it.disable_recursion_pending();
      continue;
    }
    if (name.starts_with(".") || !it->is_regular_file(ec)) continue;
    const std::string rel = it->path().lexically_relative(dir).generic_string();
    if (rel == "renv.lock") continue;
    try {
      sums[rel] = sha256_file_hex(it->path().string());
    } catch (const std::exception& e) {
      throw BundleError(rel + ": cannot be read");
    }
  }
  return sums;
}

ResolvedDependencies resolve_dependencies(const fs::path& dir,
                                          const std::vector<Repository>& repositories) {
  ResolvedDependencies out;
  const bool manifest = regular_file_here(dir, "manifest.json");
  const bool renv_lock = regular_file_here(dir, "renv.lock");
  const bool description = regular_file_here(dir, "DESCRIPTION");
  if (manifest) {
    if (renv_lock) out.warnings.push_back("Using manifest.json; ignoring renv.lock");
    if (description) out.warnings.push_back("Using manifest.json; ignoring DESCRIPTION");
    out.source = DependencySource::manifest;
    out.manifest = parse_manifest(read_file(dir / "manifest.json"));
    return out;
  }
  if (renv_lock) {
    if (description) out.warnings.push_back("Using renv.lock; ignoring DESCRIPTION");
    out.source = DependencySource::renv_lock;
    out.manifest = manifest_from_renv_lock(read_file(dir / "renv.lock"));
  } else if (description) {
    out.source = DependencySource::description;
    out.manifest = manifest_from_description(read_file(dir / "DESCRIPTION"));
  } else {
    out.source = DependencySource::scripts;
    std::string imports;
    for (const auto& name : scan_app_scripts(dir)) imports += (imports.empty() ? "" : ", ") + name;
    if (!imports.empty()) out.manifest.description["Imports"] = imports;
  }
  if (!repositories.empty()) out.manifest.repositories = repositories;
  out.manifest.entrypoint = entrypoint_of(dir);
  out.manifest.files = file_checksums(dir);
  validate_manifest(out.manifest);
  return out;
}

}  // namespace blockyard::bundle
