#include "backend/process/process_backend.h"

#include <fcntl.h>
#include <signal.h>
#include <spdlog/spdlog.h>
#include <sys/resource.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstring>
#include <ctime>
#include <mutex>
#include <optional>
#include <set>
#include <stdexcept>

#include "backend/process/build_job.h"
#include "backend/process/cgroups.h"
#include "backend/process/http_probe.h"
#include "backend/process/port_allocator.h"
#include "backend/process/process_tree.h"
#include "backend/process/sandbox_launch.h"
#include "backend/process/sandbox_marker.h"
#include "backend/process/sandbox_mounts.h"
#include "backend/process/shiny_command.h"
#include "backend/process/worker_env.h"
#include "backend/process/worker_process.h"
#include "core/config.h"
#include "state/memory_range_allocator.h"

namespace blockyard::backend::process {

namespace {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;

std::string utc_now_rfc3339() {
  const std::time_t now = std::time(nullptr);
  std::tm tm{};
  ::gmtime_r(&now, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

void require_executable(const fs::path& path, const std::string& key) {
  std::error_code ec;
  if (path.empty() || !fs::is_regular_file(path, ec) || ::access(path.c_str(), X_OK) != 0)
    throw std::invalid_argument("process backend: " + key + " \"" + path.string() +
                                "\" is not an executable file");
}

// <state_dir>/<worker>: created for the worker's UID, removed with it.
class WorkerDir {
 public:
  WorkerDir(fs::path path, int uid, int gid, bool chown_to_worker) : path_(std::move(path)) {
    fs::remove_all(path_);  // a leftover of an earlier worker with this id
    fs::create_directory(path_);
    fs::permissions(path_, fs::perms::owner_all, fs::perm_options::replace);
    if (chown_to_worker && ::chown(path_.c_str(), static_cast<uid_t>(uid), static_cast<gid_t>(gid)))
      throw std::runtime_error("process backend: chown " + path_.string() + ": " +
                               std::strerror(errno));
  }
  WorkerDir(const WorkerDir&) = delete;
  WorkerDir& operator=(const WorkerDir&) = delete;
  ~WorkerDir() {
    std::error_code ec;
    fs::remove_all(path_, ec);
    if (ec) spdlog::warn("process backend: cannot remove {}: {}", path_.string(), ec.message());
  }

 private:
  fs::path path_;
};

// Everything a worker holds while it lives; given back (in reverse order:
// processes killed before the UID is reused) by release().
struct WorkerResources {
  PortLease port;
  UidLease uid;
  std::unique_ptr<WorkerDir> dir;
  std::unique_ptr<WorkerCgroup> cgroup;

  ~WorkerResources() { release(); }
  void release() {
    cgroup.reset();  // kills stragglers, removes the group
    dir.reset();
    uid.release();
    port.release();
  }
};

// One worker: its spec, its port, its log and the process that owns them.
struct Worker {
  WorkerSpec spec;
  std::mutex resources_mu;
  WorkerResources resources;  // declared before `process`: outlives the owner thread
  int port = 0;
  int uid = 0;
  std::shared_ptr<LineLog> log;
  std::string started_at;
  int sandbox_pid = 0;  // host pid of the sandbox's pid 1 (bwrap --info-fd); 0 = unknown
  std::atomic<Clock::rep> exited_at{0};  // steady-clock ticks, 0 while running
  std::unique_ptr<WorkerProcess> process;
  // The previous resource_usage() sample, for cpu_percent.
  std::mutex usage_mu;
  std::optional<std::pair<Clock::time_point, double>> last_cpu_sample;

  // Running until the exit callback has given the port and UID back, so a
  // caller that sees "exited" can rely on those claims being free again.
  bool running() const { return exited_at.load() == 0; }

  void release_resources() {
    std::lock_guard lock(resources_mu);
    resources.release();
  }
  void kill_cgroup() {
    std::lock_guard lock(resources_mu);
    if (resources.cgroup) resources.cgroup->kill_all();
  }

  // Our sandbox's pid 1 only while it is still bwrap's child (never a reused pid).
  int live_sandbox_pid() const {
    return sandbox_pid > 0 && parent_of(sandbox_pid) == process->pid() ? sandbox_pid : 0;
  }
};

class ProcessBackend final : public Backend {
 public:
  explicit ProcessBackend(const ProcessBackendOptions& options)
      : options_(options),
        rscript_(rscript_beside(options.r_path)),
        ports_(options.port_allocator ? options.port_allocator
                                      : std::make_shared<state::MemoryRangeAllocator>(
                                            options.port_range_start, options.port_range_end)),
        uids_(options.uid_allocator
                  ? options.uid_allocator
                  : std::make_shared<state::MemoryRangeAllocator>(options.worker_uid_range_start,
                                                                  options.worker_uid_range_end)),
        own_uids_(runs_workers_as_own_uids(options)),
        instance_(instance_key(options.state_dir)),
        launch_{.bwrap_path = options.bwrap_path,
                .hidden_paths = options.hidden_paths,
                .seccomp_profile = options.seccomp_profile,
                .proc = options.worker_proc,
                .own_uids = own_uids_,
                .gid = options.worker_gid,
                .instance = instance_} {
    require_executable(options_.bwrap_path, "bwrap_path");
    require_executable(rscript_, "Rscript (beside r_path)");
    if (ports_.size() == 0)
      throw std::invalid_argument("process backend: empty port range " +
                                  std::to_string(options.port_range_start) + ".." +
                                  std::to_string(options.port_range_end));
    if (uids_->size() == 0 || uids_->first() <= 0)
      throw std::invalid_argument("process backend: bad worker UID range " +
                                  std::to_string(uids_->first()) + ".." +
                                  std::to_string(uids_->last()));
    if (options.worker_gid <= 0)
      throw std::invalid_argument("process backend: worker_gid must not be root's group");
    if (!options_.seccomp_profile.empty() && !open_seccomp().valid())
      throw std::invalid_argument("process backend: seccomp profile \"" +
                                  options_.seccomp_profile.string() +
                                  "\" cannot be read: " + std::strerror(errno));
    limits_for(WorkerSpec{});  // validates the defaults (throws std::invalid_argument)
    sandbox_mount_args("/", options_.bundle_worker_path);  // validates the mount point
    if (!options_.state_dir.empty()) {
      fs::create_directories(options_.state_dir);
      // Traversable (not listable) so a worker's UID can reach its own directory.
      fs::permissions(options_.state_dir,
                      fs::perms::owner_all | fs::perms::group_exec | fs::perms::others_exec,
                      fs::perm_options::replace);
    }
    if (options_.use_cgroups) cgroups_ = CgroupManager::detect(instance_);
    spdlog::info("process backend: worker identities {}, cgroups {} ({}), seccomp {}",
                 own_uids_ ? "per-worker host UIDs" : "the server's own UID",
                 cgroups_ ? cgroups_->support().cgroup_mode : "off",
                 cgroups_ ? cgroups_->support().detail : "disabled by configuration",
                 options_.seccomp_profile.empty() ? "off" : options_.seccomp_profile.string());
  }

  ~ProcessBackend() override { stop_all(2000); }

  Endpoint spawn(const WorkerSpec& spec) override {
    if (spec.worker_id.empty()) throw std::runtime_error("process backend: empty worker id");
    std::error_code ec;
    if (!fs::is_directory(spec.bundle_path, ec))
      throw std::runtime_error("process backend: bundle path \"" + spec.bundle_path.string() +
                               "\" is not a directory");
    claim_id(spec.worker_id);
    std::shared_ptr<Worker> worker;
    try {
      worker = start_worker(spec);
    } catch (...) {
      std::lock_guard lock(mu_);
      starting_.erase(spec.worker_id);
      throw;
    }
    std::lock_guard lock(mu_);
    starting_.erase(spec.worker_id);
    workers_[spec.worker_id] = worker;
    return endpoint_of(*worker);
  }

  void stop(const std::string& worker_id, int grace_ms) override {
    auto w = find(worker_id);
    if (!w) return;
    terminate({w}, milliseconds(grace_ms));
    forget({w});
  }

  bool health_check(const std::string& worker_id) override {
    auto w = find(worker_id);
    return w && w->running() && http_responds(endpoint_of(*w), options_.health_timeout);
  }

  std::optional<WorkerStatus> status(const std::string& worker_id) override {
    auto w = find(worker_id);
    if (!w) return std::nullopt;
    return status_of(*w);
  }

  std::vector<WorkerStatus> list_managed() override {
    std::vector<WorkerStatus> out;
    for (const auto& w : snapshot()) out.push_back(status_of(*w));
    return out;
  }

  std::shared_ptr<LineLog> logs(const std::string& worker_id) override {
    auto w = find(worker_id);
    return w ? w->log : nullptr;
  }

  void stop_all(int grace_ms) override {
    const auto all = snapshot();
    terminate(all, milliseconds(grace_ms));
    forget(all);
  }

  std::size_t cleanup_orphans() override {
    std::set<std::string> own;
    for (const auto& w : snapshot()) own.insert(w->spec.worker_id);
    std::size_t killed = 0;
    for (const auto& [pid, worker] : find_marked_processes(instance_)) {
      if (own.count(worker) != 0) continue;
      // bwrap of a dead server: its group holds what it started.
      if (::kill(-pid, SIGKILL) == 0 || ::kill(pid, SIGKILL) == 0) ++killed;
    }
    if (cgroups_) {
      for (const auto& base : cgroups_->instance_dirs()) {
        std::error_code ec;
        for (const auto& e : fs::directory_iterator(base, ec))
          if (e.is_directory(ec) && own.count(e.path().filename().string()) == 0)
            killed += kill_and_remove_tree(e.path(), false);
      }
    }
    if (!options_.state_dir.empty()) {
      std::error_code ec;
      for (const auto& e : fs::directory_iterator(options_.state_dir, ec))
        if (own.count(e.path().filename().string()) == 0) fs::remove_all(e.path(), ec);
    }
    uids_->release_stale_claims();
    if (killed > 0) spdlog::warn("process backend: killed {} leftover worker process(es)", killed);
    return killed;
  }

  std::optional<ResourceUsage> resource_usage(const std::string& worker_id) override {
    auto w = find(worker_id);
    if (!w || !w->running()) return std::nullopt;
    std::vector<int> pids;
    CgroupUsage group;
    bool has_group = false;
    {
      std::lock_guard lock(w->resources_mu);
      if (w->resources.cgroup) {
        has_group = true;
        pids = w->resources.cgroup->pids();  // every process, however it forked
        group = cgroup_usage(w->resources.cgroup->dirs());
      }
    }
    if (!has_group) {
      pids = descendants(w->process->pid());
      pids.insert(pids.begin(), w->process->pid());
    }
    const ProcessUsage tree = process_usage(pids);
    if (tree.processes == 0) return std::nullopt;  // exited meanwhile
    ResourceUsage u;
    u.processes = tree.processes;
    u.memory_bytes = group.memory_bytes.value_or(tree.rss_bytes);
    u.memory_limit_bytes = group.memory_bytes ? group.memory_limit_bytes : 0;
    u.cpu_seconds = group.cpu_seconds.value_or(tree.cpu_seconds);
    u.source = group.memory_bytes && group.cpu_seconds   ? "cgroup"
               : group.memory_bytes || group.cpu_seconds ? "cgroup+procfs"
                                                         : "procfs";
    const auto now = Clock::now();
    std::lock_guard lock(w->usage_mu);
    if (w->last_cpu_sample) {
      const double wall = std::chrono::duration<double>(now - w->last_cpu_sample->first).count();
      const double used = u.cpu_seconds - w->last_cpu_sample->second;
      if (wall > 0 && used > 0) u.cpu_percent = used / wall * 100.0;
    }
    w->last_cpu_sample = {now, u.cpu_seconds};
    return u;
  }

  BuildResult build(const BuildSpec& spec) override {
    BuildContext context;
    context.launch = launch_;
    context.r_path = options_.r_path;
    context.rscript = rscript_;
    context.uids = uids_.get();
    context.cgroups = cgroups_.get();
    WorkerSpec limits_spec;
    limits_spec.memory_limit = spec.memory_limit;
    limits_spec.cpu_limit = spec.cpu_limit;
    limits_spec.pids_limit = spec.pids_limit;
    try {
      context.limits = limits_for(limits_spec);
    } catch (const std::exception& e) {
      BuildResult r;
      r.error = std::string("build: ") + e.what();
      if (spec.log) spec.log->append(r.error);
      return r;
    }
    context.rlimits = rlimits_for(context.limits);
    return run_build_job(context, spec);
  }

  LimitsSupport limits_support() const override {
    LimitsSupport s = cgroups_ ? cgroups_->support() : LimitsSupport{};
    if (!cgroups_) s.detail = "cgroups disabled by configuration";
    s.distinct_uids = own_uids_;
    s.rlimit_nproc = own_uids_;
    s.seccomp = !options_.seccomp_profile.empty();
    return s;
  }

 private:
  // Reserves the id for a spawn in progress; a live worker or another spawn
  // with the same id is refused, an exited worker is replaced.
  void claim_id(const std::string& id) {
    std::shared_ptr<Worker> replaced;
    std::lock_guard lock(mu_);
    if (starting_.count(id) != 0)
      throw std::runtime_error("process backend: worker \"" + id + "\" is already starting");
    if (auto it = workers_.find(id); it != workers_.end()) {
      if (it->second->running())
        throw std::runtime_error("process backend: worker \"" + id + "\" is already running");
      replaced = std::move(it->second);
      workers_.erase(it);
    }
    starting_.insert(id);
  }

  std::shared_ptr<Worker> start_worker(const WorkerSpec& spec) {
    if (!is_safe_worker_name(spec.worker_id))
      throw std::runtime_error("process backend: worker id \"" + spec.worker_id +
                               "\" must be 1-128 characters of [A-Za-z0-9._-]");
    const ResourceLimits limits = limits_for(spec);
    auto w = std::make_shared<Worker>();
    w->spec = spec;
    w->log = spec.log ? spec.log : std::make_shared<LineLog>(options_.log_lines);
    w->started_at = utc_now_rfc3339();
    // Every claim below lives in w->resources: a throw before the start gives all back.
    w->resources.port = ports_.reserve();
    w->port = w->resources.port.port();
    w->resources.uid = UidLease(*uids_);
    w->uid = w->resources.uid.uid();
    if (!options_.state_dir.empty())
      w->resources.dir = std::make_unique<WorkerDir>(options_.state_dir / spec.worker_id, w->uid,
                                                     options_.worker_gid, own_uids_);
    if (cgroups_) w->resources.cgroup = cgroups_->create(spec.worker_id, limits);

    LaunchRequest launch;
    launch.name = spec.worker_id;
    launch.uid = w->uid;
    launch.binds = {{fs::absolute(spec.bundle_path), options_.bundle_worker_path, true}};
    for (const auto& m : spec.mounts) {
      if (!m.read_only)
        throw std::runtime_error("process backend: worker mounts must be read-only (" +
                                 m.target.string() + ")");
      launch.binds.push_back({fs::absolute(m.source), m.target, true});
    }
    launch.env = worker_environment(options_.worker_env, spec.env, w->port);
    launch.command = shiny_command(spec.r_path.empty() ? rscript_ : rscript_beside(spec.r_path),
                                   options_.bundle_worker_path, w->port);
    if (w->resources.cgroup) launch.cgroup_procs_fds = w->resources.cgroup->procs_fds();
    launch.rlimits = rlimits_for(limits);
    launch.log = w->log;
    Worker* raw = w.get();  // the process (and its callbacks) never outlive *w
    launch.before_fork = [raw] { raw->resources.port.close_listener(); };
    launch.on_exit = [raw](int code) {
      raw->release_resources();
      raw->exited_at = Clock::now().time_since_epoch().count();
      spdlog::info("process backend: worker exited worker_id={} exit_code={}", raw->spec.worker_id,
                   code);
      if (raw->spec.on_exit) raw->spec.on_exit(code);
    };
    LaunchedSandbox launched = launch_sandbox(launch_, std::move(launch));
    w->process = std::move(launched.process);
    w->sandbox_pid = launched.sandbox_pid;
    spdlog::info(
        "process backend: spawned worker worker_id={} port={} uid={} pid={} sandbox_pid={}",
        spec.worker_id, w->port, w->uid, w->process->pid(), w->sandbox_pid);
    return w;
  }

  UniqueFd open_seccomp() const {
    return UniqueFd(::open(options_.seccomp_profile.c_str(), O_RDONLY | O_CLOEXEC));
  }

  // The spec's limits, else the configured defaults. Throws std::invalid_argument.
  ResourceLimits limits_for(const WorkerSpec& spec) const {
    ResourceLimits l;
    const std::string& memory =
        spec.memory_limit.empty() ? options_.default_memory_limit : spec.memory_limit;
    if (!memory.empty()) l.memory_bytes = parse_memory_size(memory);
    l.cpus = spec.cpu_limit > 0 ? spec.cpu_limit : options_.default_cpu_limit;
    l.pids = spec.pids_limit > 0 ? spec.pids_limit : options_.default_pids_limit;
    if (l.cpus < 0 || l.pids < 0) throw std::invalid_argument("process backend: negative limit");
    return l;
  }

  std::vector<ProcessOptions::Rlimit> rlimits_for(const ResourceLimits& limits) const {
    std::vector<ProcessOptions::Rlimit> out{{RLIMIT_CORE, 0}};
    if (options_.rlimit_nofile > 0) out.push_back({RLIMIT_NOFILE, options_.rlimit_nofile});
    if (options_.rlimit_as > 0) out.push_back({RLIMIT_AS, options_.rlimit_as});
    // No memory cgroup (a container without a delegated subtree): the memory
    // limit still bounds the worker's heap and private mappings. Not
    // RLIMIT_AS: R maps far more address space than it uses.
    if (limits.memory_bytes > 0 && !(cgroups_ && cgroups_->support().memory))
      out.push_back({RLIMIT_DATA, static_cast<unsigned long long>(limits.memory_bytes)});
    // RLIMIT_NPROC counts every process of a UID: meaningful only when the
    // worker has a host UID of its own.
    if (own_uids_ && limits.pids > 0)
      out.push_back({RLIMIT_NPROC, static_cast<unsigned long long>(limits.pids)});
    return out;
  }

  // SIGTERM to the processes inside each sandbox (bwrap forwards no signals),
  // SIGKILL to whatever is left after `grace`, then wait for the reaper.
  void terminate(const std::vector<std::shared_ptr<Worker>>& workers, milliseconds grace) {
    for (const auto& w : workers) {
      if (!w->running()) continue;
      if (const int sandbox = w->live_sandbox_pid()) {
        const auto inside = descendants(sandbox);
        for (int pid : inside) ::kill(pid, SIGTERM);
        // Nothing started inside yet: there is nothing to shut down gracefully.
        if (inside.empty()) ::kill(sandbox, SIGKILL);
      } else {
        w->process->signal_group(SIGTERM);  // bwrap dies, --die-with-parent takes the rest
      }
    }
    const auto deadline = Clock::now() + grace;
    for (const auto& w : workers) {
      const auto left = std::chrono::duration_cast<milliseconds>(deadline - Clock::now());
      if (w->process->wait_finished(std::max(left, milliseconds(0)))) continue;
      spdlog::warn(
          "process backend: worker did not exit after SIGTERM, sending SIGKILL "
          "worker_id={}",
          w->spec.worker_id);
      // Killing the sandbox's pid 1 takes down its pid namespace and lets bwrap
      // reap it; the cgroup and bwrap's own group are the fallbacks.
      if (const int sandbox = w->live_sandbox_pid()) ::kill(sandbox, SIGKILL);
      w->kill_cgroup();
      if (!w->process->wait_finished(milliseconds(500))) {
        w->process->signal_group(SIGKILL);
        w->process->signal(SIGKILL);
      }
    }
    for (const auto& w : workers)
      if (!w->process->wait_finished(milliseconds(5000)))
        spdlog::error("process backend: worker still running after SIGKILL worker_id={}",
                      w->spec.worker_id);
  }

  std::shared_ptr<Worker> find(const std::string& id) {
    std::lock_guard lock(mu_);
    auto it = workers_.find(id);
    return it == workers_.end() ? nullptr : it->second;
  }

  std::vector<std::shared_ptr<Worker>> snapshot() {
    std::vector<std::shared_ptr<Worker>> out;
    std::lock_guard lock(mu_);
    for (const auto& [id, w] : workers_) out.push_back(w);
    return out;
  }

  // Drops stopped workers from the table (each only if it is still the
  // entry under its id: a new spawn may have replaced an exited one).
  void forget(const std::vector<std::shared_ptr<Worker>>& stopped) {
    std::vector<std::shared_ptr<Worker>> dropped;  // destroyed outside the lock
    std::lock_guard lock(mu_);
    for (const auto& w : stopped) {
      auto it = workers_.find(w->spec.worker_id);
      if (it != workers_.end() && it->second == w) {
        dropped.push_back(std::move(it->second));
        workers_.erase(it);
      }
    }
  }

  // Workers listen where the port allocator bound its placeholder.
  static Endpoint endpoint_of(const Worker& w) { return Endpoint::tcp(kWorkerHost, w.port); }

  static WorkerStatus status_of(const Worker& w) {
    WorkerStatus s;
    s.worker_id = w.spec.worker_id;
    s.app_id = w.spec.app_id;
    s.bundle_id = w.spec.bundle_id;
    s.endpoint = endpoint_of(w);
    s.pid = w.process->pid();
    // Exited only once the exit callback gave the claims back (see Worker::running).
    s.running = w.running();
    s.exit_code = s.running ? -1 : w.process->exit_code().value_or(-1);
    s.started_at = w.started_at;
    return s;
  }

  const ProcessBackendOptions options_;
  const fs::path rscript_;
  PortAllocator ports_;  // outlive every worker (declared first, destroyed last)
  std::shared_ptr<state::RangeAllocator> uids_;
  const bool own_uids_;  // root: each worker under its own host UID (ProcessOptions::run_as)
  const std::string instance_;
  const LaunchConfig launch_;  // what every sandbox launch (worker or build) shares
  std::shared_ptr<const CgroupManager> cgroups_;  // null when use_cgroups is off
  std::mutex mu_;
  std::map<std::string, std::shared_ptr<Worker>> workers_;
  std::set<std::string> starting_;
};

}  // namespace

bool runs_workers_as_own_uids(const ProcessBackendOptions& options) {
  return options.worker_identities && ::geteuid() == 0;
}

std::unique_ptr<Backend> make_process_backend(const ProcessBackendOptions& options) {
  return std::make_unique<ProcessBackend>(options);
}

}  // namespace blockyard::backend::process
