#include "backend/process/process_backend.h"

#include <signal.h>
#include <spdlog/spdlog.h>
#include <unistd.h>

#include <atomic>
#include <ctime>
#include <mutex>
#include <set>
#include <stdexcept>

#include "backend/process/bwrap_args.h"
#include "backend/process/http_probe.h"
#include "backend/process/port_allocator.h"
#include "backend/process/process_tree.h"
#include "backend/process/sandbox_mounts.h"
#include "backend/process/shiny_command.h"
#include "backend/process/worker_env.h"
#include "backend/process/worker_process.h"

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

// One worker: its spec, its port, its log and the process that owns them.
struct Worker {
  WorkerSpec spec;
  PortLease lease;  // declared before `process`: outlives the owner thread
  int port = 0;
  std::shared_ptr<LineLog> log;
  std::string started_at;
  int sandbox_pid = 0;  // host pid of the sandbox's pid 1 (bwrap --info-fd); 0 = unknown
  std::atomic<Clock::rep> exited_at{0};  // steady-clock ticks, 0 while running
  std::unique_ptr<WorkerProcess> process;

  bool running() const { return process->running(); }

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
        ports_(options.port_range_start, options.port_range_end) {
    require_executable(options_.bwrap_path, "bwrap_path");
    require_executable(rscript_, "Rscript (beside r_path)");
    if (ports_.size() == 0)
      throw std::invalid_argument("process backend: empty port range " +
                                  std::to_string(options.port_range_start) + ".." +
                                  std::to_string(options.port_range_end));
    sandbox_mount_args("/", options_.bundle_worker_path);  // validates the mount point
    if (!options_.state_dir.empty()) {
      fs::create_directories(options_.state_dir);
      fs::permissions(options_.state_dir, fs::perms::owner_all, fs::perm_options::replace);
    }
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
    if (auto w = find(worker_id)) terminate({w}, milliseconds(grace_ms));
  }

  bool health_check(const std::string& worker_id) override {
    auto w = find(worker_id);
    return w && w->running() && http_responds("127.0.0.1", w->port, options_.health_timeout);
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

  void stop_all(int grace_ms) override { terminate(snapshot(), milliseconds(grace_ms)); }

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
    auto w = std::make_shared<Worker>();
    w->spec = spec;
    w->lease = ports_.reserve();
    w->port = w->lease.port();
    w->log = std::make_shared<LineLog>(options_.log_lines);
    w->started_at = utc_now_rfc3339();

    SandboxSpec sandbox;
    sandbox.bwrap_path = options_.bwrap_path;
    sandbox.bundle_host_path = fs::absolute(spec.bundle_path);
    sandbox.bundle_mount = options_.bundle_worker_path;
    sandbox.env = worker_environment(options_.worker_env, spec.env, w->port);
    sandbox.command = shiny_command(rscript_, options_.bundle_worker_path, w->port);
    sandbox.info_fd = 3;

    ProcessOptions run;
    run.argv = build_bwrap_argv(sandbox);
    // bwrap itself gets an empty environment too; --setenv gives the worker its own.
    run.log = w->log;
    run.info_pipe = true;
    Worker* raw = w.get();  // the process (and its callbacks) never outlive *w
    run.before_fork = [raw] { raw->lease.close_listener(); };
    run.on_exit = [raw](int code) {
      raw->exited_at = Clock::now().time_since_epoch().count();
      raw->lease.release();
      spdlog::info("process backend: worker exited worker_id={} exit_code={}", raw->spec.worker_id,
                   code);
    };
    w->process = WorkerProcess::start(std::move(run));
    w->sandbox_pid = parse_bwrap_child_pid(w->process->read_info(milliseconds(2000)));
    spdlog::info("process backend: spawned worker worker_id={} port={} pid={} sandbox_pid={}",
                 spec.worker_id, w->port, w->process->pid(), w->sandbox_pid);
    return w;
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
      // reap it; bwrap's own group is the fallback.
      if (const int sandbox = w->live_sandbox_pid()) ::kill(sandbox, SIGKILL);
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

  // Live workers plus exited ones still within log_retention (older ones are
  // dropped here; their threads are joined outside the lock).
  std::vector<std::shared_ptr<Worker>> snapshot() {
    std::vector<std::shared_ptr<Worker>> out, expired;
    {
      std::lock_guard lock(mu_);
      const auto now = Clock::now().time_since_epoch().count();
      const auto retention =
          std::chrono::duration_cast<Clock::duration>(options_.log_retention).count();
      for (auto it = workers_.begin(); it != workers_.end();) {
        const auto exited = it->second->exited_at.load();
        if (exited != 0 && now - exited >= retention) {
          expired.push_back(std::move(it->second));
          it = workers_.erase(it);
        } else {
          out.push_back(it->second);
          ++it;
        }
      }
    }
    return out;
  }

  static Endpoint endpoint_of(const Worker& w) {
    Endpoint e;
    e.host = "127.0.0.1";
    e.port = w.port;
    return e;
  }

  static WorkerStatus status_of(const Worker& w) {
    WorkerStatus s;
    s.worker_id = w.spec.worker_id;
    s.app_id = w.spec.app_id;
    s.bundle_id = w.spec.bundle_id;
    s.endpoint = endpoint_of(w);
    s.pid = w.process->pid();
    const auto code = w.process->exit_code();
    s.running = !code.has_value();
    s.exit_code = code.value_or(-1);
    s.started_at = w.started_at;
    return s;
  }

  const ProcessBackendOptions options_;
  const fs::path rscript_;
  PortAllocator ports_;  // outlives every worker (declared first, destroyed last)
  std::mutex mu_;
  std::map<std::string, std::shared_ptr<Worker>> workers_;
  std::set<std::string> starting_;
};

}  // namespace

std::unique_ptr<Backend> make_process_backend(const ProcessBackendOptions& options) {
  return std::make_unique<ProcessBackend>(options);
}

}  // namespace blockyard::backend::process
