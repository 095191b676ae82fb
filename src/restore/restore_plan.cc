#include "restore/restore_plan.h"

#include <functional>
#include <map>
#include <regex>
#include <stdexcept>

#include "bundle/dcf.h"

namespace blockyard::restore {

namespace {

[[noreturn]] void bad(const std::string& what) {
  throw std::runtime_error("resolve: " + what);
}

std::string get(const bundle::DcfRecord& r, const char* key) {
  auto it = r.find(key);
  return it == r.end() ? "" : it->second;
}

PlannedPackage read_package(const bundle::DcfRecord& r, const std::set<std::string>& source_ids) {
  PlannedPackage p;
  p.package = get(r, "Package");
  p.version = get(r, "Version");
  p.origin = get(r, "Origin");
  if (!bundle::is_valid_package_name(p.package)) bad("bad package name \"" + p.package + "\"");
  if (!bundle::is_valid_package_version(p.version))
    bad("package " + p.package + ": bad version \"" + p.version + "\"");
  p.requested = get(r, "Requested") == "yes";
  p.lib_path = get(r, "LibPath");
  p.repository = get(r, "Repository");
  p.repository_url = get(r, "RepositoryURL");
  p.download = get(r, "Download");
  p.tarball = get(r, "Tarball");
  p.archived = get(r, "Archived") == "yes";
  p.git_url = get(r, "GitUrl");
  p.git_sha = get(r, "GitSha");
  p.git_subdir = get(r, "GitSubdir");
  p.dependencies = bundle::split_list(get(r, "Dependencies"));
  p.linking_to = bundle::split_list(get(r, "LinkingTo"));
  p.needs_compilation = get(r, "NeedsCompilation") == "yes";
  p.entry.package = p.package;
  p.entry.version = p.version;
  p.entry.source_id = get(r, "SourceId");
  static const std::regex kTarball(R"(downloads/[A-Za-z0-9._-]+)");
  if (!p.tarball.empty() && !std::regex_match(p.tarball, kTarball))
    bad("package " + p.package + ": bad Tarball \"" + p.tarball + "\"");
  if (p.origin == "host") {
    if (p.lib_path.empty()) bad("package " + p.package + ": host package without LibPath");
  } else if (p.origin == "repository") {
    if (source_ids.count(p.entry.source_id) == 0)
      bad("package " + p.package + ": unknown SourceId \"" + p.entry.source_id + "\"");
    if (p.tarball.empty() && !p.download.starts_with(p.repository_url + "/"))
      bad("package " + p.package + ": download \"" + p.download + "\" is not below " +
          p.repository_url);
  } else if (p.origin == "git") {
    static const std::regex kSha("[0-9a-f]{40}");
    if (!std::regex_match(p.git_sha, kSha)) bad("package " + p.package + ": bad GitSha");
    if (!p.entry.source_id.starts_with("git-" + p.git_sha))
      bad("package " + p.package + ": SourceId does not name its commit");
  } else {
    bad("package " + p.package + ": unknown Origin \"" + p.origin + "\"");
  }
  return p;
}

}  // namespace

RestorePlan parse_restore_plan(const std::string& platform_dcf, const std::string& plan_dcf,
                               const std::set<std::string>& source_ids) {
  RestorePlan plan;
  const auto header = bundle::parse_dcf(platform_dcf, "platform.dcf");
  if (header.empty()) bad("platform.dcf is empty");
  plan.platform = get(header.front(), "Platform");
  plan.r_version = get(header.front(), "RVersion");
  static const std::regex kPlatform(R"([0-9]+\.[0-9]+-[A-Za-z0-9_.-]+)");
  if (!std::regex_match(plan.platform, kPlatform)) bad("bad platform \"" + plan.platform + "\"");

  std::map<std::string, PlannedPackage> by_name;
  for (const auto& record : bundle::parse_dcf(plan_dcf, "plan.dcf")) {
    PlannedPackage p = read_package(record, source_ids);
    p.entry.platform = plan.platform;
    const std::string name = p.package;
    if (!by_name.emplace(name, std::move(p)).second) bad("package " + name + " planned twice");
  }
  // Dependencies first (depth-first, in name order for a stable result).
  std::map<std::string, int> state;  // 1 = visiting, 2 = done
  std::function<void(const std::string&)> visit = [&](const std::string& name) {
    auto& s = state[name];
    if (s == 2) return;
    if (s == 1) bad("dependency cycle through " + name);
    s = 1;
    PlannedPackage& p = by_name.at(name);
    std::vector<std::string> known;
    for (const auto& dep : p.dependencies)
      if (by_name.count(dep) != 0) {
        known.push_back(dep);
        visit(dep);
      }
    p.dependencies = known;
    if (!p.from_host()) {
      std::vector<std::string> linked;
      for (const auto& l : p.linking_to) {
        auto it = by_name.find(l);
        if (it == by_name.end()) continue;
        const PlannedPackage& lp = it->second;
        linked.push_back(
            lp.package + " " + lp.version + " " +
            (lp.from_host() ? std::string("host") : lp.entry.source_id + "-" + lp.entry.config_id));
      }
      p.entry.config_id = config_id(linked);
    }
    state[name] = 2;
    plan.packages.push_back(p);
  };
  for (const auto& [name, p] : by_name) visit(name);
  return plan;
}

std::vector<StoreEntry> plan_entries(const RestorePlan& plan) {
  std::vector<StoreEntry> out;
  for (const auto& p : plan.packages)
    if (!p.from_host()) out.push_back(p.entry);
  return out;
}

}  // namespace blockyard::restore
