#include "restore/restore_inputs.h"

#include <map>

#include "bundle/bundle_error.h"
#include "bundle/dcf.h"
#include "bundle/script_scan.h"
#include "restore/package_store.h"

namespace blockyard::restore {

namespace {

using bundle::BundleError;
using bundle::DcfRecord;

bool needs_bioconductor(const bundle::Manifest& m) {
  if (!m.bioconductor_version.empty()) return true;
  for (const auto& [name, record] : m.packages)
    if (record.source == "Bioconductor") return true;
  return false;
}

std::string strip_slashes(std::string url) {
  while (url.size() > 1 && url.back() == '/') url.pop_back();
  return url;
}

// A parsed Remotes entry: which package it provides and where from.
struct Remote {
  std::string package;
  std::string url;
  std::string ref;
  std::string subdir;
};

Remote parse_remote(std::string spec) {
  Remote r;
  if (auto eq = spec.find('='); eq != std::string::npos && spec.find("://") > eq) {
    r.package = spec.substr(0, eq);
    spec = spec.substr(eq + 1);
  }
  std::string type = "github";
  if (auto colons = spec.find("::"); colons != std::string::npos) {
    type = spec.substr(0, colons);
    spec = spec.substr(colons + 2);
  }
  // "@ref" ends the spec (git URLs may contain '@' before the host).
  if (auto at = spec.rfind('@'); at != std::string::npos &&
                                 spec.find('/', at) == std::string::npos &&
                                 spec.find(':', at) == std::string::npos) {
    r.ref = spec.substr(at + 1);
    spec = spec.substr(0, at);
  }
  if (type == "git") {
    r.url = spec;
  } else if (type == "github" || type == "gitlab" || type == "bitbucket") {
    // user/repo[/subdir]
    const auto first = spec.find('/');
    if (first == std::string::npos) throw BundleError("Remotes: \"" + spec + "\" is not user/repo");
    const auto second = spec.find('/', first + 1);
    const std::string repo = spec.substr(0, second);
    if (second != std::string::npos) r.subdir = spec.substr(second + 1);
    const std::string host = type == "github"   ? "github.com"
                             : type == "gitlab" ? "gitlab.com"
                                                : "bitbucket.org";
    r.url = "https://" + host + "/" + repo + ".git";
  } else {
    throw BundleError("Remotes: remote type \"" + type +
                      "\" is not supported (use github::, "
                      "gitlab::, bitbucket:: or git::)");
  }
  if (r.package.empty()) {
    std::string base = strip_slashes(r.url);
    base = base.substr(base.find_last_of('/') + 1);
    if (base.ends_with(".git")) base.resize(base.size() - 4);
    r.package = r.subdir.empty() ? base : r.subdir.substr(r.subdir.find_last_of('/') + 1);
  }
  return r;
}

void split_constraint(const bundle::DependencyEntry& dep, DcfRecord& record) {
  if (!dep.op.empty()) record["Constraint"] = dep.op + " " + dep.version;
}

}  // namespace

std::string bioconductor_release_for(const std::string& r_version) {
  static const std::map<std::string, std::string> kByMinor = {
      {"3.6", "3.10"}, {"4.0", "3.12"}, {"4.1", "3.14"}, {"4.2", "3.16"},
      {"4.3", "3.18"}, {"4.4", "3.20"}, {"4.5", "3.22"}};
  const auto dot = r_version.find('.');
  if (dot == std::string::npos) return "";
  const auto second = r_version.find('.', dot + 1);
  auto it = kByMinor.find(r_version.substr(0, second));
  return it == kByMinor.end() ? "" : it->second;
}

std::vector<ResolvedRepository> effective_repositories(const bundle::Manifest& manifest,
                                                       const RepositorySettings& settings,
                                                       const std::string& r_version) {
  const auto& chosen = !settings.overrides.empty()      ? settings.overrides
                       : !manifest.repositories.empty() ? manifest.repositories
                                                        : settings.defaults;
  std::vector<ResolvedRepository> out;
  for (const auto& repo : chosen) {
    bundle::Repository r{repo.name, strip_slashes(repo.url)};
    out.push_back({r, "cran", repository_source_id(r.url)});
  }
  if (needs_bioconductor(manifest) && settings.overrides.empty()) {
    std::string release = manifest.bioconductor_version;
    if (release.empty()) release = bioconductor_release_for(r_version);
    if (release.empty())
      throw BundleError(
          "the app needs Bioconductor packages, but no Bioconductor release is "
          "known for R " +
          r_version + "; set bioconductor_version in manifest.json");
    const std::string base = strip_slashes(settings.bioconductor_url) + "/packages/" + release;
    for (const auto& [name, path] :
         std::vector<std::pair<std::string, std::string>>{{"BioCsoft", "/bioc"},
                                                          {"BioCann", "/data/annotation"},
                                                          {"BioCexp", "/data/experiment"},
                                                          {"BioCworkflows", "/workflows"}}) {
      bundle::Repository r{name, base + path};
      out.push_back({r, "bioc", repository_source_id(r.url)});
    }
  }
  return out;
}

std::string git_url_for(const bundle::PackageRecord& record) {
  if (record.source == "git") return record.remote_url;
  std::string host = record.remote_host;
  if (record.source == "GitHub") {
    // renv records the API host; clone from the web host.
    if (host.empty() || host == "api.github.com") host = "github.com";
    if (auto api = host.find("/api/v3"); api != std::string::npos) host.erase(api);
  } else if (record.source == "GitLab") {
    if (host.empty()) host = "gitlab.com";
  } else if (record.source == "Bitbucket") {
    if (host.empty() || host == "api.bitbucket.org/2.0") host = "bitbucket.org";
  }
  if (!host.starts_with("http://") && !host.starts_with("https://")) host = "https://" + host;
  return strip_slashes(host) + "/" + record.remote_username + "/" + record.remote_repo + ".git";
}

std::string requirements_dcf(const bundle::Manifest& m) {
  std::vector<DcfRecord> records;
  for (const auto& [name, r] : m.packages) {
    DcfRecord record{{"Package", name}};
    if (r.source == "Repository" || r.source == "Bioconductor") {
      record["Version"] = r.version;
      record["Source"] = r.source;
      if (!r.repository.empty()) record["Repository"] = r.repository;
    } else {
      record["Source"] = "git";
      record["GitUrl"] = git_url_for(r);
      if (!r.remote_sha.empty()) record["GitSha"] = r.remote_sha;
      if (!r.remote_ref.empty()) record["GitRef"] = r.remote_ref;
      if (!r.remote_subdir.empty()) record["GitSubdir"] = r.remote_subdir;
    }
    records.push_back(record);
  }
  std::map<std::string, Remote> remotes;
  if (auto it = m.description.find("Remotes"); it != m.description.end()) {
    for (const auto& item : bundle::split_list(it->second)) {
      Remote remote = parse_remote(item);
      remotes[remote.package] = remote;
    }
  }
  std::map<std::string, DcfRecord> unpinned;
  for (const char* field : {"Depends", "Imports", "LinkingTo"}) {
    auto it = m.description.find(field);
    if (it == m.description.end()) continue;
    for (const auto& dep : bundle::parse_dependency_field(it->second)) {
      if (bundle::is_base_package(dep.package)) continue;
      DcfRecord& record = unpinned[dep.package];
      record["Package"] = dep.package;
      split_constraint(dep, record);
      if (auto remote = remotes.find(dep.package); remote != remotes.end()) {
        record["Source"] = "git";
        record["GitUrl"] = remote->second.url;
        if (!remote->second.ref.empty()) record["GitRef"] = remote->second.ref;
        if (!remote->second.subdir.empty()) record["GitSubdir"] = remote->second.subdir;
      }
    }
  }
  for (auto& [name, record] : unpinned) records.push_back(record);
  return bundle::format_dcf(records);
}

std::string repositories_dcf(const std::vector<ResolvedRepository>& repositories) {
  std::vector<DcfRecord> records;
  for (const auto& r : repositories)
    records.push_back(
        {{"Name", r.repository.name}, {"URL", r.repository.url}, {"Kind", r.kind}, {"Id", r.id}});
  return bundle::format_dcf(records);
}

}  // namespace blockyard::restore
