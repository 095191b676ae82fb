#include "bundle/manifest.h"

#include <nlohmann/json.hpp>

#include "bundle/bundle_error.h"
#include "bundle/dcf.h"

namespace blockyard::bundle {

namespace {

using nlohmann::json;
using nlohmann::ordered_json;

[[noreturn]] void invalid(const std::string& reason) {
  throw BundleError("invalid manifest: " + reason);
}

// The record's fields in renv's order, paired with their JSON names.
template <typename Record, typename Fn>
void for_each_record_field(Record& r, Fn&& fn) {
  fn("Package", r.package);
  fn("Version", r.version);
  fn("Source", r.source);
  fn("Repository", r.repository);
  fn("RemoteType", r.remote_type);
  fn("RemoteHost", r.remote_host);
  fn("RemoteUsername", r.remote_username);
  fn("RemoteRepo", r.remote_repo);
  fn("RemoteRef", r.remote_ref);
  fn("RemoteSha", r.remote_sha);
  fn("RemoteSubdir", r.remote_subdir);
  fn("RemoteUrl", r.remote_url);
}

constexpr const char* kDescriptionFields[] = {"Depends", "Imports", "LinkingTo", "Remotes"};

bool is_description_field(const std::string& name) {
  for (const char* f : kDescriptionFields)
    if (name == f) return true;
  return false;
}

std::string string_field(const json& object, const char* key, const std::string& where) {
  auto it = object.find(key);
  if (it == object.end() || it->is_null()) return "";
  if (!it->is_string()) invalid(where + key + " must be a string");
  return it->get<std::string>();
}

void validate_record(const std::string& key, const PackageRecord& r) {
  const std::string where = "package \"" + key + "\": ";
  if (r.package.empty()) invalid(where + "Package is required");
  if (r.package != key) invalid(where + "Package is \"" + r.package + "\"");
  if (!is_valid_package_name(r.package)) invalid(where + "not a valid package name");
  if (r.source.empty()) invalid(where + "Source is required");
  if (!r.version.empty() && !is_valid_package_version(r.version))
    invalid(where + "Version \"" + r.version + "\" is not a valid version");
  if (r.source == "Repository" || r.source == "Bioconductor") {
    if (r.version.empty()) invalid(where + "Version is required for Source " + r.source);
  } else if (r.source == "GitHub" || r.source == "GitLab" || r.source == "Bitbucket") {
    if (r.remote_username.empty() || r.remote_repo.empty() || r.remote_sha.empty())
      invalid(where + "RemoteUsername, RemoteRepo and RemoteSha are required for Source " +
              r.source);
  } else if (r.source == "git") {
    if (r.remote_url.empty()) invalid(where + "RemoteUrl is required for Source git");
  } else {
    invalid(where + "unsupported Source \"" + r.source + "\"");
  }
}

bool valid_repository_url(std::string_view url) {
  for (std::string_view scheme : {"http://", "https://", "file://"})
    if (url.starts_with(scheme) && url.size() > scheme.size()) return true;
  return false;
}

}  // namespace

void validate_manifest(const Manifest& m) {
  if (m.version != 1)
    invalid("unsupported manifest version " + std::to_string(m.version) + " (server supports 1)");
  if (!m.packages.empty() && !m.description.empty())
    invalid("packages and description are mutually exclusive");
  if (m.entrypoint.empty()) invalid("metadata.entrypoint is required");
  for (const auto& [key, record] : m.packages) validate_record(key, record);
  for (const auto& [field, value] : m.description) {
    if (!is_description_field(field))
      invalid("description field \"" + field +
              "\" is not one of Depends, Imports, LinkingTo, Remotes");
    if (field == "Remotes") continue;  // parsed by the resolver (remote specs, not packages)
    try {
      parse_dependency_field(value);
    } catch (const BundleError& e) {
      invalid("description " + field + ": " + e.what());
    }
  }
  for (const auto& repo : m.repositories) {
    if (repo.name.empty()) invalid("a repository has no Name");
    if (!valid_repository_url(repo.url))
      invalid("repository \"" + repo.name + "\": URL must start with http://, https:// or file://");
  }
}

Manifest parse_manifest(std::string_view text) {
  json j;
  try {
    j = json::parse(text);
  } catch (const json::parse_error& e) {
    invalid(std::string("not valid JSON: ") + e.what());
  }
  if (!j.is_object()) invalid("the top level must be an object");
  Manifest m;
  if (auto it = j.find("version"); it != j.end()) {
    if (!it->is_number_integer()) invalid("version must be an integer");
    m.version = it->get<int>();
  } else {
    invalid("version is required");
  }
  m.r_version = string_field(j, "r_version", "");
  m.bioconductor_version = string_field(j, "bioconductor_version", "");
  if (auto it = j.find("metadata"); it != j.end() && !it->is_null()) {
    if (!it->is_object()) invalid("metadata must be an object");
    m.appmode = string_field(*it, "appmode", "metadata.");
    m.entrypoint = string_field(*it, "entrypoint", "metadata.");
  } else {
    m.entrypoint.clear();
  }
  if (auto it = j.find("repositories"); it != j.end() && !it->is_null()) {
    if (!it->is_array()) invalid("repositories must be an array");
    for (const auto& r : *it) {
      if (!r.is_object()) invalid("each repository must be an object");
      m.repositories.push_back(
          {string_field(r, "Name", "repository "), string_field(r, "URL", "repository ")});
    }
  }
  if (auto it = j.find("packages"); it != j.end() && !it->is_null()) {
    if (!it->is_object()) invalid("packages must be an object");
    for (const auto& [key, value] : it->items()) {
      if (!value.is_object()) invalid("package \"" + key + "\" must be an object");
      PackageRecord r;
      for_each_record_field(r, [&](const char* name, std::string& field) {
        field = string_field(value, name, "package \"" + key + "\": ");
      });
      m.packages[key] = r;
    }
  }
  if (auto it = j.find("description"); it != j.end() && !it->is_null()) {
    if (!it->is_object()) invalid("description must be an object");
    for (const auto& [key, value] : it->items()) {
      if (!value.is_string()) invalid("description " + key + " must be a string");
      m.description[key] = value.get<std::string>();
    }
  }
  if (auto it = j.find("files"); it != j.end() && !it->is_null()) {
    if (!it->is_object()) invalid("files must be an object");
    for (const auto& [path, value] : it->items()) {
      if (!value.is_object()) invalid("files \"" + path + "\" must be an object");
      m.files[path] = string_field(value, "checksum", "files \"" + path + "\": ");
    }
  }
  validate_manifest(m);
  return m;
}

std::string manifest_to_json(const Manifest& m) {
  ordered_json j;
  j["version"] = m.version;
  if (!m.r_version.empty()) j["r_version"] = m.r_version;
  if (!m.bioconductor_version.empty()) j["bioconductor_version"] = m.bioconductor_version;
  j["metadata"] = ordered_json{{"appmode", m.appmode}, {"entrypoint", m.entrypoint}};
  ordered_json repos = ordered_json::array();
  for (const auto& r : m.repositories) repos.push_back({{"Name", r.name}, {"URL", r.url}});
  j["repositories"] = repos;
  if (!m.packages.empty()) {
    ordered_json packages = ordered_json::object();
    for (const auto& [key, record] : m.packages) {
      ordered_json r = ordered_json::object();
      for_each_record_field(record, [&](const char* name, const std::string& field) {
        if (!field.empty()) r[name] = field;
      });
      packages[key] = r;
    }
    j["packages"] = packages;
  } else if (!m.description.empty()) {
    ordered_json description = ordered_json::object();
    for (const auto& [field, value] : m.description) description[field] = value;
    j["description"] = description;
  }
  if (!m.files.empty()) {
    ordered_json files = ordered_json::object();
    for (const auto& [path, sum] : m.files) files[path] = {{"checksum", sum}};
    j["files"] = files;
  }
  return j.dump(2) + "\n";
}

Repository parse_repository(std::string_view text, std::size_t position) {
  const std::size_t eq = text.find('=');
  Repository r;
  // "Name=URL", but a bare URL may itself contain '=' in its query.
  if (eq != std::string_view::npos && text.substr(0, eq).find("://") == std::string_view::npos) {
    r.name = std::string(text.substr(0, eq));
    r.url = std::string(text.substr(eq + 1));
  } else {
    r.name = "repo" + std::to_string(position);
    r.url = std::string(text);
  }
  auto trim = [](std::string& s) {
    const auto b = s.find_first_not_of(" \t\n");
    const auto e = s.find_last_not_of(" \t\n");
    s = b == std::string::npos ? "" : s.substr(b, e - b + 1);
  };
  trim(r.name);
  trim(r.url);
  while (r.url.size() > 1 && r.url.back() == '/') r.url.pop_back();
  if (r.name.empty()) throw BundleError("repository \"" + std::string(text) + "\" has no name");
  if (!valid_repository_url(r.url))
    throw BundleError("repository \"" + std::string(text) +
                      "\": URL must start with http://, https:// or file://");
  return r;
}

std::vector<Repository> parse_repository_list(std::string_view text) {
  std::vector<Repository> out;
  for (const auto& item : split_list(text)) out.push_back(parse_repository(item, out.size() + 1));
  return out;
}

}  // namespace blockyard::bundle
