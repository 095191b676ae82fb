// cgroup_delegation: is there a cgroup subtree blockyard may write (v2, or v1
// hierarchies), and which per-worker limits can therefore be enforced?
#include <unistd.h>

#include <fstream>
#include <map>
#include <set>
#include <sstream>

#include "preflight/checks.h"
#include "preflight/registry.h"

namespace blockyard::preflight {

namespace {

struct Mount {
  std::string point, fstype, super_options;
};

std::vector<Mount> cgroup_mounts() {
  // mountinfo: id parent maj:min root point options [optional...] - fstype source super
  std::vector<Mount> mounts;
  std::ifstream in("/proc/self/mountinfo");
  std::string line;
  while (std::getline(in, line)) {
    auto dash = line.find(" - ");
    if (dash == std::string::npos) continue;
    std::istringstream head(line.substr(0, dash)), tail(line.substr(dash + 3));
    std::string skip, point, fstype, source, super;
    head >> skip >> skip >> skip >> skip >> point;
    tail >> fstype >> source >> super;
    if (fstype == "cgroup" || fstype == "cgroup2") mounts.push_back({point, fstype, super});
  }
  return mounts;
}

// /proc/self/cgroup: "hierarchy:controllers:path"; v2 has empty controllers.
std::map<std::string, std::string> own_cgroup_paths() {
  std::map<std::string, std::string> paths;  // controller ("" for v2) -> path
  std::ifstream in("/proc/self/cgroup");
  std::string line;
  while (std::getline(in, line)) {
    auto first = line.find(':'), second = line.find(':', first + 1);
    if (first == std::string::npos || second == std::string::npos) continue;
    std::string controllers = line.substr(first + 1, second - first - 1);
    std::string path = line.substr(second + 1);
    if (controllers.empty()) {
      paths[""] = path;
      continue;
    }
    std::istringstream list(controllers);
    std::string c;
    while (std::getline(list, c, ',')) paths[c] = path;
  }
  return paths;
}

bool has_option(const std::string& options, const std::string& wanted) {
  std::istringstream list(options);
  std::string o;
  while (std::getline(list, o, ',')) {
    if (o == wanted) return true;
  }
  return false;
}

bool writable_dir(const std::string& dir) {
  return ::access(dir.c_str(), W_OK | X_OK) == 0;
}

bool xt_cgroup_loaded() {
  std::ifstream in("/proc/net/ip_tables_matches");
  if (!in) return true;  // unknown: do not nag
  std::string line;
  while (std::getline(in, line)) {
    if (line == "cgroup") return true;
  }
  return false;
}

}  // namespace

CheckResult check_cgroup_delegation(const CheckContext& context) {
  const std::string name = "cgroup_delegation";
  const std::vector<std::string> wanted{"memory", "cpu", "pids"};
  auto own = own_cgroup_paths();
  std::set<std::string> enforceable;
  std::vector<std::string> found;  // human-readable locations
  std::string v2_dir;

  for (const auto& m : cgroup_mounts()) {
    if (m.fstype == "cgroup2" && own.count("")) {
      std::string dir = m.point + (own[""] == "/" ? "" : own[""]);
      if (!writable_dir(dir)) continue;
      v2_dir = dir;
      std::ifstream in(dir + "/cgroup.controllers");
      std::string c, list;
      while (in >> c) {
        for (const auto& w : wanted) {
          if (c == w) enforceable.insert(w);
        }
        list += (list.empty() ? "" : " ") + c;
      }
      found.push_back("v2 at " + dir + " (controllers: " + (list.empty() ? "none" : list) + ")");
    } else if (m.fstype == "cgroup") {
      for (const auto& w : wanted) {
        if (!has_option(m.super_options, w) || !own.count(w)) continue;
        std::string dir = m.point + (own[w] == "/" ? "" : own[w]);
        if (!writable_dir(dir)) continue;
        enforceable.insert(w);
        found.push_back("v1 " + w + " at " + dir);
      }
    }
  }

  std::vector<std::string> missing;
  for (const auto& w : wanted) {
    if (!enforceable.count(w)) missing.push_back(w);
  }
  std::string missing_text;
  for (const auto& w : missing) missing_text += (missing_text.empty() ? "" : ", ") + w;
  const std::string how_to_fix =
      " Give blockyard a writable cgroup subtree: under systemd set Delegate=yes in its unit; "
      "in a container use cgroup v2 with --cgroupns=private and a writable /sys/fs/cgroup. "
      "Workers still get rlimits: memory_limit as a data-size limit (RLIMIT_DATA), processes "
      "per worker UID, open files.";

  if (found.empty()) {
    std::string limits = context.config.server.default_memory_limit.empty() &&
                                 context.config.server.default_cpu_limit == 0
                             ? ""
                             : " The configured default_memory_limit/default_cpu_limit will NOT "
                               "be enforced.";
    return result(name, kWarning,
                  "no writable cgroup subtree (v2 or v1): per-worker memory, CPU and pids limits "
                  "cannot be enforced, and worker traffic cannot be matched with iptables "
                  "`-m cgroup`." +
                      limits + how_to_fix);
  }
  std::string where;
  for (const auto& f : found) where += (where.empty() ? "" : "; ") + f;
  std::string message = "writable cgroups: " + where + ".";
  // Only a pure v2 host puts workers in the v2 tree (hybrid hosts use v1).
  if (!v2_dir.empty() && v2_dir.starts_with("/sys/fs/cgroup") &&
      !v2_dir.starts_with("/sys/fs/cgroup/unified")) {
    std::string rel = v2_dir.substr(std::min(v2_dir.size(), std::string("/sys/fs/cgroup").size()));
    message += " Workers go into " + v2_dir +
               "/workers; firewall them with e.g. `iptables -A "
               "OUTPUT -m cgroup --path " +
               (rel.empty() ? "" : rel.substr(1) + "/") + "workers -d <service-ip> -j REJECT`.";
    if (!xt_cgroup_loaded()) {
      message +=
          " The iptables cgroup match is not loaded: `modprobe xt_cgroup` (persist in "
          "/etc/modules-load.d/).";
    }
  }
  if (!missing.empty()) {
    return result(name, kWarning,
                  message + " Limits that cannot be enforced: " + missing_text + "." + how_to_fix);
  }
  return result(name, kOk, message + " Memory, CPU and pids limits can be enforced.");
}

}  // namespace blockyard::preflight
