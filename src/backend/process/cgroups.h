// Per-worker control groups: every worker gets its own group(s) under
// <own cgroup>/blockyard/workers/<instance>/<worker>, where <instance> names
// one backend (one state_dir), so two servers on a host never touch each
// other's workers. The worker's first process joins its groups before it
// execs (see ProcessOptions::cgroup_procs_fds), so everything it starts is
// counted and limited from the start, and the group lists every process of
// the worker however it forks — stop and orphan clean-up kill by group.
//
// cgroup v2 is used when the server's own v2 group offers the memory, pids
// and cpu controllers and they can be enabled below it; otherwise cgroup v1
// per-controller hierarchies (memory, pids, cpu, and cpuacct for CPU time
// when it is mounted on its own) that we can write; otherwise
// none. What can be enforced is reported by support() (for preflight);
// nothing is silently pretended.
//
// Thread safety: CgroupManager is immutable after detect() and safe to share;
// a WorkerCgroup belongs to one worker (not thread-safe itself).
#pragma once

#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "backend/backend.h"
#include "core/unique_fd.h"

namespace blockyard::backend::process {

struct ResourceLimits {
  std::int64_t memory_bytes = 0;  // 0 = no limit
  double cpus = 0;                // vCPUs; 0 = no limit
  int pids = 0;                   // 0 = no limit
};

class WorkerCgroup;

class CgroupManager {
 public:
  // Detects what the host offers from /proc/self/cgroup and /proc/mounts.
  // Never throws: an unusable host yields a manager in mode "none".
  // `instance` names this backend's subtree (a short hash of its state_dir).
  static std::shared_ptr<const CgroupManager> detect(const std::string& instance);

  // Only the cgroup fields (mode, memory, cpu, pids, detail) are filled.
  const LimitsSupport& support() const { return support_; }
  bool enabled() const { return !bases_.empty(); }

  // Creates the worker's group(s) and applies the limits the host supports
  // (unsupported ones are skipped; support() says which). Returns null in
  // mode "none". Throws std::runtime_error when a group cannot be created or
  // a supported limit cannot be written.
  std::unique_ptr<WorkerCgroup> create(const std::string& worker_name,
                                       const ResourceLimits& limits) const;

  // SIGKILLs every process left in this instance's groups and removes them
  // (a crashed predecessor's workers). Returns the number of processes killed.
  std::size_t kill_leftovers() const;

  // Exposed for tests: the instance directories, one per hierarchy.
  const std::vector<std::filesystem::path>& instance_dirs() const { return bases_; }

 private:
  struct Hierarchy {
    std::filesystem::path base;  // .../blockyard/workers/<instance>
    bool memory = false, pids = false, cpu = false, v2 = false;
  };
  CgroupManager() = default;

  std::vector<Hierarchy> hierarchies_;
  std::vector<std::filesystem::path> bases_;
  LimitsSupport support_;
};

// One worker's group in each hierarchy. Destruction kills whatever is still
// in them and removes the directories (best effort, logged).
class WorkerCgroup {
 public:
  WorkerCgroup(const WorkerCgroup&) = delete;
  WorkerCgroup& operator=(const WorkerCgroup&) = delete;
  ~WorkerCgroup();

  // Open cgroup.procs fds (close-on-exec) the child writes its pid into
  // before it execs; owned here.
  std::vector<int> procs_fds() const;
  // Every pid currently in the worker's group(s).
  std::vector<int> pids() const;
  // SIGKILLs every process in the groups until they are empty (or ~2 s).
  void kill_all() const;
  // Removes the directories (after kill_all); true when all are gone.
  bool remove();
  const std::vector<std::filesystem::path>& dirs() const { return dirs_; }

 private:
  friend class CgroupManager;
  WorkerCgroup() = default;
  std::vector<std::filesystem::path> dirs_;
  std::vector<UniqueFd> procs_;
};

// What a worker's groups account. A field is set only when some group
// accounts it (v1 without a cpuacct group, for instance, has no CPU time).
struct CgroupUsage {
  std::optional<std::uint64_t> memory_bytes;  // usage minus inactive page cache
  std::uint64_t memory_limit_bytes = 0;       // 0 = unlimited
  std::optional<double> cpu_seconds;          // user + system, exited processes included
};

// Reads the usage files in a worker's group directories (v2: memory.current,
// memory.stat, memory.max, cpu.stat; v1: memory.usage_in_bytes, memory.stat,
// memory.limit_in_bytes, cpuacct.usage). Missing files are skipped.
CgroupUsage cgroup_usage(const std::vector<std::filesystem::path>& dirs);

// Process ids listed in a cgroup directory's cgroup.procs (empty if none).
std::vector<int> cgroup_pids(const std::filesystem::path& dir);

// SIGKILLs everything in `dir` and every group below it, removes those
// groups bottom-up and `dir` itself unless `keep_dir`. Returns processes killed.
std::size_t kill_and_remove_tree(const std::filesystem::path& dir, bool keep_dir);

}  // namespace blockyard::backend::process
