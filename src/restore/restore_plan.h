// The resolve step's answer (plan.dcf, platform.dcf): every package an app
// needs, where each comes from, in an order in which each package's
// dependencies come before it, with the store entry of each package that is
// not the server's own.
#pragma once

#include <set>
#include <string>
#include <vector>

#include "restore/package_store.h"

namespace blockyard::restore {

struct PlannedPackage {
  std::string package;
  std::string version;
  std::string origin;      // "host" (the server's R library), "repository" or "git"
  bool requested = false;  // named by the app (not only a dependency)
  std::string lib_path;    // host: the library holding it
  std::string repository;  // repository: its name
  std::string repository_url;
  std::string download;  // URL of the source tarball
  std::string tarball;   // already fetched by the resolve step: path below its output
  bool archived = false;
  std::string git_url, git_sha, git_subdir;
  std::vector<std::string> dependencies;  // names of planned packages it needs
  std::vector<std::string> linking_to;
  bool needs_compilation = false;
  StoreEntry entry;  // not for host packages

  bool from_host() const { return origin == "host"; }
};

struct RestorePlan {
  std::string platform;                  // "4.2-x86_64-pc-linux-gnu"
  std::string r_version;                 // "4.2.2"
  std::vector<PlannedPackage> packages;  // dependencies first
};

// Parses and checks the resolve step's output: names and versions
// well-formed, origins known, repository packages carrying one of
// `source_ids` and downloads below their repository, git packages a
// 40-digit commit; then orders the packages and computes each one's store
// entry (its config id from the entries of its LinkingTo packages). Throws
// std::runtime_error("resolve: ...") on anything malformed or a dependency
// cycle.
RestorePlan parse_restore_plan(const std::string& platform_dcf, const std::string& plan_dcf,
                               const std::set<std::string>& source_ids);

// The store entries of a plan's non-host packages, in plan order.
std::vector<StoreEntry> plan_entries(const RestorePlan& plan);

}  // namespace blockyard::restore
