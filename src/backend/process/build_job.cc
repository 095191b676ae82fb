#include "backend/process/build_job.h"

#include <fcntl.h>
#include <signal.h>
#include <spdlog/spdlog.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <stdexcept>

#include "backend/process/process_tree.h"
#include "backend/process/sandbox_marker.h"
#include "backend/process/worker_env.h"
#include "core/unique_fd.h"

namespace blockyard::backend::process {

namespace {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;

std::string errno_text(const std::string& what) {
  return what + ": " + std::strerror(errno);
}

// Every entry of `dir` (itself included), without following symlinks, gets
// uid:gid. Returns the first failure ("" when none).
std::string chown_tree(const fs::path& dir, int uid, int gid) {
  std::string failure;
  auto own = [&](const fs::path& p) {
    if (::lchown(p.c_str(), static_cast<uid_t>(uid), static_cast<gid_t>(gid)) != 0 &&
        failure.empty())
      failure = errno_text("chown " + p.string());
  };
  own(dir);
  std::error_code ec;
  for (fs::recursive_directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec))
    own(it->path());
  if (ec && failure.empty()) failure = "walk " + dir.string() + ": " + ec.message();
  return failure;
}

// The output directory belongs to the job's UID while it runs (as root only;
// otherwise the job writes as the server's own UID anyway) and to the
// server afterwards.
class OutputOwnership {
 public:
  OutputOwnership(fs::path dir, bool hand_over, int uid, int gid)
      : dir_(std::move(dir)), hand_over_(hand_over) {
    if (!hand_over_) return;
    const std::string failure = chown_tree(dir_, uid, gid);
    if (!failure.empty()) {
      take_back();
      throw std::runtime_error("build: output directory: " + failure);
    }
  }
  OutputOwnership(const OutputOwnership&) = delete;
  OutputOwnership& operator=(const OutputOwnership&) = delete;
  ~OutputOwnership() {
    if (hand_over_) take_back();
  }

 private:
  void take_back() {
    const std::string failure =
        chown_tree(dir_, static_cast<int>(::geteuid()), static_cast<int>(::getegid()));
    if (!failure.empty())
      spdlog::error("process backend: build output {} not returned to the server: {}",
                    dir_.string(), failure);
  }

  fs::path dir_;
  bool hand_over_;
};

std::vector<std::string> resolve_command(const BuildContext& context,
                                         std::vector<std::string> command) {
  if (command.empty()) throw std::runtime_error("build: empty command");
  if (command[0] == "R") command[0] = context.r_path.string();
  if (command[0] == "Rscript") command[0] = context.rscript.string();
  return command;
}

void require_directory(const fs::path& path, const std::string& what) {
  std::error_code ec;
  if (path.empty() || !fs::is_directory(path, ec))
    throw std::runtime_error("build: " + what + " \"" + path.string() + "\" is not a directory");
}

// Kills the job's whole tree: the sandbox's pid 1 (its pid namespace dies
// with it), then whatever the cgroup and bwrap's process group still hold.
void kill_job(WorkerProcess& process, int sandbox_pid, const WorkerCgroup* cgroup) {
  if (sandbox_pid > 0 && parent_of(sandbox_pid) == process.pid()) ::kill(sandbox_pid, SIGKILL);
  if (cgroup != nullptr) cgroup->kill_all();
  process.signal_group(SIGKILL);
  process.signal(SIGKILL);
}

BuildResult run_job(const BuildContext& context, const BuildSpec& spec,
                    const std::shared_ptr<LineLog>& log) {
  if (!is_safe_worker_name(spec.build_id) || spec.build_id.size() > 100)
    throw std::runtime_error("build: build id \"" + spec.build_id +
                             "\" must be 1-100 characters of [A-Za-z0-9._-]");
  if (context.uids == nullptr) throw std::runtime_error("build: no UID allocator");
  const std::vector<std::string> command = resolve_command(context, spec.command);
  require_directory(spec.bundle_path, "bundle path");
  if (spec.output_path.empty()) throw std::runtime_error("build: no output directory");
  std::error_code ec;
  fs::create_directories(spec.output_path, ec);
  require_directory(spec.output_path, "output directory");
  for (const auto& m : spec.mounts) require_directory(m.source, "mount source");

  const std::string name = build_job_name(spec.build_id);
  // Declaration order is release order in reverse: the process dies first,
  // then the output is taken back, the group goes, the UID last.
  UidLease uid(*context.uids);
  std::unique_ptr<WorkerCgroup> cgroup =
      context.cgroups != nullptr ? context.cgroups->create(name, context.limits) : nullptr;
  OutputOwnership output(spec.output_path, context.launch.own_uids, uid.uid(), context.launch.gid);

  LaunchRequest launch;
  launch.name = name;
  launch.uid = uid.uid();
  launch.binds = {{fs::absolute(spec.bundle_path), spec.bundle_mount, true},
                  {fs::absolute(spec.output_path), spec.output_mount, false}};
  for (const auto& m : spec.mounts)
    launch.binds.push_back({fs::absolute(m.source), m.target, m.read_only});
  launch.env = build_environment(spec.env);
  launch.command = command;
  if (cgroup) launch.cgroup_procs_fds = cgroup->procs_fds();
  launch.rlimits = context.rlimits;
  launch.log = log;
  launch.close_log_at_exit = false;

  spdlog::info("process backend: build started build_id={} app_id={} uid={}", spec.build_id,
               spec.app_id, uid.uid());
  LaunchedSandbox launched = launch_sandbox(context.launch, std::move(launch));
  auto& process = launched.process;
  const int sandbox_pid = launched.sandbox_pid;

  BuildResult result;
  // Waits in slices so a cancellation is noticed within one.
  const auto deadline =
      spec.timeout.count() > 0 ? Clock::now() + spec.timeout : Clock::time_point::max();
  bool finished = false;
  while (!finished) {
    if (spec.cancel && spec.cancel->load()) {
      result.cancelled = true;
      break;
    }
    const auto now = Clock::now();
    if (now >= deadline) {
      result.timed_out = true;
      break;
    }
    const auto slice = std::min<Clock::duration>(deadline - now, milliseconds(200));
    finished =
        process->wait_finished(std::chrono::duration_cast<milliseconds>(slice) + milliseconds(1));
  }
  if (!finished) {
    kill_job(*process, sandbox_pid, cgroup.get());
    if (!process->wait_finished(milliseconds(10000)))
      spdlog::error("process backend: build still running after SIGKILL build_id={}",
                    spec.build_id);
    log->append(
        result.cancelled
            ? std::string("build: cancelled; the job was killed")
            : "build: timed out after " +
                  std::to_string(
                      std::chrono::duration_cast<std::chrono::seconds>(spec.timeout).count()) +
                  " s; the job was killed");
  }
  result.exit_code = process->exit_code().value_or(-1);
  // Whatever the job left behind (a daemon in its group) goes with it.
  if (cgroup) cgroup->kill_all();
  spdlog::info("process backend: build ended build_id={} exit_code={} timed_out={}", spec.build_id,
               result.exit_code, result.timed_out);
  return result;
}

}  // namespace

std::string build_job_name(const std::string& build_id) {
  return "~build-" + build_id;
}

BuildResult run_build_job(const BuildContext& context, const BuildSpec& spec) {
  const auto started = Clock::now();
  const auto log = spec.log ? spec.log : std::make_shared<LineLog>(1000);
  BuildResult result;
  try {
    result = run_job(context, spec, log);
  } catch (const std::exception& e) {
    result = BuildResult{};
    result.error = e.what();
    log->append("build: " + result.error);
    spdlog::warn("process backend: build failed to start build_id={}: {}", spec.build_id,
                 result.error);
  }
  result.duration = std::chrono::duration_cast<milliseconds>(Clock::now() - started);
  return result;
}

}  // namespace blockyard::backend::process
