#include "backend/process/cgroups.h"

#include <fcntl.h>
#include <signal.h>
#include <spdlog/spdlog.h>
#include <unistd.h>

#include <cerrno>
#include <cmath>
#include <cstring>
#include <fstream>
#include <map>
#include <optional>
#include <set>
#include <sstream>
#include <stdexcept>
#include <thread>

namespace blockyard::backend::process {

namespace fs = std::filesystem;

namespace {

constexpr const char* kSubtree = "blockyard/workers";
constexpr long kCpuPeriodUs = 100000;

std::vector<std::string> split(const std::string& text, char sep) {
  std::vector<std::string> out;
  std::string item;
  std::istringstream in(text);
  while (std::getline(in, item, sep)) out.push_back(item);
  return out;
}

std::string read_text(const fs::path& path) {
  std::ifstream in(path);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

bool has_word(const std::string& text, const std::string& word) {
  std::istringstream in(text);
  for (std::string w; in >> w;)
    if (w == word) return true;
  return false;
}

// Writes `value` to a cgroup control file; throws with the reason.
void write_control(const fs::path& file, const std::string& value) {
  UniqueFd fd(::open(file.c_str(), O_WRONLY | O_CLOEXEC));
  if (!fd.valid() || ::write(fd.get(), value.data(), value.size()) < 0)
    throw std::runtime_error("cgroup: write " + value + " to " + file.string() + ": " +
                             std::strerror(errno));
}

// One line of /proc/self/mountinfo for a cgroup file system.
struct CgroupMount {
  fs::path mount_point;
  std::string root;  // the subtree of the hierarchy mounted there
  bool v2 = false;
  std::set<std::string> controllers;  // v1: from the super options
};

std::vector<CgroupMount> cgroup_mounts() {
  std::vector<CgroupMount> out;
  std::ifstream in("/proc/self/mountinfo");
  for (std::string line; std::getline(in, line);) {
    const auto fields = split(line, ' ');
    std::size_t dash = 0;
    while (dash < fields.size() && fields[dash] != "-") ++dash;
    if (fields.size() < 5 || dash + 1 >= fields.size()) continue;
    const std::string& type = fields[dash + 1];
    if (type != "cgroup" && type != "cgroup2") continue;
    CgroupMount m;
    m.root = fields[3];
    m.mount_point = fields[4];
    m.v2 = type == "cgroup2";
    if (!m.v2 && dash + 3 < fields.size())
      for (const auto& opt : split(fields[dash + 3], ',')) m.controllers.insert(opt);
    out.push_back(std::move(m));
  }
  return out;
}

// Our own group per hierarchy: "" for v2 ("0::"), else each controller name.
std::map<std::string, std::string> own_groups() {
  std::map<std::string, std::string> out;
  std::ifstream in("/proc/self/cgroup");
  for (std::string line; std::getline(in, line);) {
    const auto first = line.find(':');
    const auto second = line.find(':', first + 1);
    if (first == std::string::npos || second == std::string::npos) continue;
    const std::string controllers = line.substr(first + 1, second - first - 1);
    const std::string path = line.substr(second + 1);
    if (line.compare(0, first, "0") == 0 && controllers.empty()) out[""] = path;
    for (const auto& c : split(controllers, ',')) out[c] = path;
  }
  return out;
}

// Host directory of group `own` in a mount of its hierarchy; nullopt when the
// mount does not show that part of the hierarchy.
std::optional<fs::path> group_dir(const CgroupMount& m, const std::string& own) {
  if (m.root == "/") return m.mount_point / fs::path(own).relative_path();
  if (own == m.root) return m.mount_point;
  if (own.rfind(m.root + "/", 0) == 0) return m.mount_point / own.substr(m.root.size() + 1);
  return std::nullopt;
}

// Creates `base` below `own_dir` (every level); in v2 also enables
// `controllers` on the way down so the leaves get them.
void create_subtree(const fs::path& own_dir, const fs::path& rel, const std::string& controllers) {
  fs::path dir = own_dir;
  if (!controllers.empty()) write_control(dir / "cgroup.subtree_control", controllers);
  for (const auto& part : rel) {
    dir /= part;
    std::error_code ec;
    fs::create_directory(dir, ec);
    if (ec) throw std::runtime_error("cgroup: mkdir " + dir.string() + ": " + ec.message());
    if (!controllers.empty()) write_control(dir / "cgroup.subtree_control", controllers);
  }
}

}  // namespace

namespace {

std::optional<std::uint64_t> read_number(const fs::path& file) {
  std::ifstream in(file);
  std::uint64_t value = 0;
  if (in >> value) return value;
  return std::nullopt;
}

// The value of `key` in a flat-keyed file (memory.stat, cpu.stat).
std::optional<std::uint64_t> read_key(const fs::path& file, const std::string& key) {
  std::ifstream in(file);
  std::string name;
  std::uint64_t value = 0;
  while (in >> name >> value)
    if (name == key) return value;
  return std::nullopt;
}

// v1 reports "unlimited" as the largest page-aligned counter value.
constexpr std::uint64_t kUnlimitedAbove = std::uint64_t{1} << 62;

}  // namespace

CgroupUsage cgroup_usage(const std::vector<fs::path>& dirs) {
  CgroupUsage u;
  for (const auto& dir : dirs) {
    std::error_code ec;
    if (fs::exists(dir / "memory.current", ec)) {  // v2
      const auto current = read_number(dir / "memory.current");
      const auto inactive = read_key(dir / "memory.stat", "inactive_file").value_or(0);
      if (current) u.memory_bytes = *current > inactive ? *current - inactive : 0;
      if (const auto max = read_number(dir / "memory.max")) u.memory_limit_bytes = *max;
    } else if (fs::exists(dir / "memory.usage_in_bytes", ec)) {  // v1
      const auto usage = read_number(dir / "memory.usage_in_bytes");
      const auto inactive = read_key(dir / "memory.stat", "total_inactive_file").value_or(0);
      if (usage) u.memory_bytes = *usage > inactive ? *usage - inactive : 0;
      const auto limit = read_number(dir / "memory.limit_in_bytes").value_or(0);
      u.memory_limit_bytes = limit >= kUnlimitedAbove ? 0 : limit;
    }
    if (const auto usec = read_key(dir / "cpu.stat", "usage_usec")) {  // v2
      u.cpu_seconds = static_cast<double>(*usec) / 1e6;
    } else if (const auto ns = read_number(dir / "cpuacct.usage")) {  // v1
      u.cpu_seconds = static_cast<double>(*ns) / 1e9;
    }
  }
  return u;
}

std::vector<int> cgroup_pids(const fs::path& dir) {
  std::vector<int> out;
  std::ifstream in(dir / "cgroup.procs");
  for (int pid; in >> pid;) out.push_back(pid);
  return out;
}

std::size_t kill_and_remove_tree(const fs::path& dir, bool keep_dir) {
  std::size_t killed = 0;
  std::error_code ec;
  std::vector<fs::path> children;
  for (const auto& e : fs::directory_iterator(dir, ec))
    if (e.is_directory(ec) && !e.is_symlink(ec)) children.push_back(e.path());
  for (const auto& child : children) killed += kill_and_remove_tree(child, false);
  for (int round = 0; round < 200; ++round) {
    const auto pids = cgroup_pids(dir);
    if (pids.empty()) break;
    for (int pid : pids)
      if (::kill(pid, SIGKILL) == 0 && round == 0) ++killed;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  if (!keep_dir) {
    for (int round = 0; round < 100 && ::rmdir(dir.c_str()) != 0 && errno == EBUSY; ++round)
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return killed;
}

std::shared_ptr<const CgroupManager> CgroupManager::detect(const std::string& instance) {
  std::shared_ptr<CgroupManager> m(new CgroupManager());
  const fs::path rel = fs::path(kSubtree) / instance;
  const auto mounts = cgroup_mounts();
  const auto own = own_groups();
  std::vector<std::string> notes;

  // cgroup v2 with all three controllers delegated to us.
  std::optional<fs::path> v2_own;
  for (const auto& mount : mounts) {
    if (!mount.v2 || own.count("") == 0) continue;
    v2_own = group_dir(mount, own.at(""));
    if (v2_own) break;
  }
  if (v2_own) {
    const std::string available = read_text(*v2_own / "cgroup.controllers");
    if (has_word(available, "memory") && has_word(available, "pids") &&
        has_word(available, "cpu")) {
      try {
        create_subtree(*v2_own, rel, "+memory +pids +cpu");
        m->hierarchies_.push_back({*v2_own / rel, true, true, true, true});
        m->support_.cgroup_mode = "v2";
      } catch (const std::exception& e) {
        notes.push_back(std::string("cgroup v2 controllers not delegated: ") + e.what());
      }
    } else {
      notes.push_back("cgroup v2 at " + v2_own->string() +
                      " offers no memory/pids/cpu controllers");
    }
  }

  // cgroup v1: one hierarchy per controller we can write.
  if (m->hierarchies_.empty()) {
    std::set<fs::path> seen;
    // cpuacct only accounts (CPU time for resource_usage); usually it shares
    // the cpu hierarchy and is then skipped as already seen.
    for (const char* controller : {"memory", "pids", "cpu", "cpuacct"}) {
      for (const auto& mount : mounts) {
        if (mount.v2 || mount.controllers.count(controller) == 0 || own.count(controller) == 0)
          continue;
        const auto dir = group_dir(mount, own.at(controller));
        if (!dir || seen.count(*dir) != 0) break;
        try {
          create_subtree(*dir, rel, "");
          Hierarchy h{*dir / rel};
          h.memory = mount.controllers.count("memory") != 0;
          h.pids = mount.controllers.count("pids") != 0;
          h.cpu = mount.controllers.count("cpu") != 0;
          m->hierarchies_.push_back(h);
          seen.insert(*dir);
        } catch (const std::exception& e) {
          notes.push_back(std::string("cgroup v1 ") + controller + ": " + e.what());
        }
        break;
      }
    }
    if (!m->hierarchies_.empty()) m->support_.cgroup_mode = "v1";
  }

  // Plain v2 grouping without controllers still lets us find and kill every process.
  if (m->hierarchies_.empty() && v2_own) {
    try {
      create_subtree(*v2_own, rel, "");
      m->hierarchies_.push_back({*v2_own / rel, false, false, false, true});
      m->support_.cgroup_mode = "v2";
    } catch (const std::exception& e) {
      notes.push_back(std::string("cgroup v2 grouping: ") + e.what());
    }
  }

  for (const auto& h : m->hierarchies_) {
    m->bases_.push_back(h.base);
    m->support_.memory |= h.memory;
    m->support_.pids |= h.pids;
    m->support_.cpu |= h.cpu;
    notes.insert(notes.begin(), "worker groups under " + h.base.string());
  }
  if (m->hierarchies_.empty()) notes.push_back("no writable cgroup hierarchy");
  for (const auto& n : notes) m->support_.detail += (m->support_.detail.empty() ? "" : "; ") + n;
  return m;
}

std::unique_ptr<WorkerCgroup> CgroupManager::create(const std::string& worker_name,
                                                    const ResourceLimits& limits) const {
  if (hierarchies_.empty()) return nullptr;
  std::unique_ptr<WorkerCgroup> group(new WorkerCgroup());
  for (const auto& h : hierarchies_) {
    const fs::path dir = h.base / worker_name;
    std::error_code ec;
    fs::create_directory(dir, ec);
    if (ec) throw std::runtime_error("cgroup: mkdir " + dir.string() + ": " + ec.message());
    group->dirs_.push_back(dir);  // from here on the destructor removes it
    if (h.memory && limits.memory_bytes > 0) {
      const std::string bytes = std::to_string(limits.memory_bytes);
      if (h.v2) {
        write_control(dir / "memory.max", bytes);
        if (fs::exists(dir / "memory.swap.max")) write_control(dir / "memory.swap.max", "0");
      } else {
        write_control(dir / "memory.limit_in_bytes", bytes);
        // With swap accounting, memory+swap gets the same ceiling: no escape into swap.
        if (fs::exists(dir / "memory.memsw.limit_in_bytes"))
          write_control(dir / "memory.memsw.limit_in_bytes", bytes);
      }
    }
    if (h.pids && limits.pids > 0) write_control(dir / "pids.max", std::to_string(limits.pids));
    if (h.cpu && limits.cpus > 0) {
      const long quota = std::max(1000L, std::lround(limits.cpus * kCpuPeriodUs));
      if (h.v2) {
        write_control(dir / "cpu.max", std::to_string(quota) + " " + std::to_string(kCpuPeriodUs));
      } else {
        write_control(dir / "cpu.cfs_period_us", std::to_string(kCpuPeriodUs));
        write_control(dir / "cpu.cfs_quota_us", std::to_string(quota));
      }
    }
    UniqueFd procs(::open((dir / "cgroup.procs").c_str(), O_WRONLY | O_CLOEXEC));
    if (!procs.valid())
      throw std::runtime_error("cgroup: open " + (dir / "cgroup.procs").string() + ": " +
                               std::strerror(errno));
    group->procs_.push_back(std::move(procs));
  }
  return group;
}

std::size_t CgroupManager::kill_leftovers() const {
  std::size_t killed = 0;
  for (const auto& base : bases_) killed += kill_and_remove_tree(base, true);
  return killed;
}

WorkerCgroup::~WorkerCgroup() {
  kill_all();
  if (!remove()) {
    for (const auto& d : dirs_)
      if (fs::exists(d))
        spdlog::warn("process backend: cgroup {} could not be removed", d.string());
  }
}

std::vector<int> WorkerCgroup::procs_fds() const {
  std::vector<int> out;
  for (const auto& fd : procs_) out.push_back(fd.get());
  return out;
}

std::vector<int> WorkerCgroup::pids() const {
  std::set<int> all;
  for (const auto& d : dirs_)
    for (int pid : cgroup_pids(d)) all.insert(pid);
  return {all.begin(), all.end()};
}

void WorkerCgroup::kill_all() const {
  for (int round = 0; round < 200; ++round) {
    const auto left = pids();
    if (left.empty()) return;
    for (int pid : left) ::kill(pid, SIGKILL);
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
}

bool WorkerCgroup::remove() {
  procs_.clear();
  bool all = true;
  for (const auto& d : dirs_) {
    int round = 0;
    while (::rmdir(d.c_str()) != 0 && errno == EBUSY && ++round < 100)
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    std::error_code ec;
    all = all && !fs::exists(d, ec);
  }
  return all;
}

}  // namespace blockyard::backend::process
