// Worker identities, seccomp, limits and orphan clean-up, end to end: real
// bwrap, real R, as root (the identity tests skip otherwise).
#include <arpa/inet.h>
#include <fcntl.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <seccomp.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>
#include <thread>

#include "backend/process/backend_waits_for_test.h"
#include "backend/process/cgroups.h"
#include "backend/process/port_allocator.h"
#include "backend/process/process_backend.h"
#include "backend/process/process_tree.h"
#include "backend/process/sandbox_marker.h"
#include "state/memory_range_allocator.h"

namespace blockyard::backend::process {
namespace {

namespace fs = std::filesystem;
using std::chrono::milliseconds;
using std::chrono::seconds;
using ::testing::HasSubstr;
using ::testing::Not;

constexpr int kFirstPort = 23300;
constexpr int kFirstUid = 61200;
constexpr int kGid = 65534;

std::string read_file(const fs::path& path) {
  std::ifstream in(path);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

// The value of "Name:" in /proc/<pid>/status (first field only).
long status_field(int pid, const std::string& name) {
  std::istringstream in(read_file("/proc/" + std::to_string(pid) + "/status"));
  for (std::string line; std::getline(in, line);)
    if (line.rfind(name + ":", 0) == 0) return std::stol(line.substr(name.size() + 1));
  return -1;
}

std::string comm_of(int pid) {
  std::string c = read_file("/proc/" + std::to_string(pid) + "/comm");
  if (!c.empty() && c.back() == '\n') c.pop_back();
  return c;
}

// The R interpreter inside a worker (bwrap → sandbox init → R).
int r_pid_of(int bwrap_pid) {
  for (int pid : descendants(bwrap_pid))
    if (comm_of(pid) == "R") return pid;
  return 0;
}

class WorkerIsolationTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!fs::exists("/usr/bin/bwrap") || !fs::exists("/usr/bin/Rscript"))
      GTEST_SKIP() << "needs /usr/bin/bwrap and /usr/bin/Rscript";
    dir_ = fs::temp_directory_path() /
           ("by-isolation-" + std::to_string(::getpid()) + "-" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_);
    // Like a real data directory: closed to everyone else, worker UIDs included.
    fs::permissions(dir_, fs::perms::owner_all, fs::perm_options::replace);
    uids_ = std::make_shared<state::MemoryRangeAllocator>(kFirstUid, kFirstUid + 9);
    options_.port_range_start = kFirstPort;
    options_.port_range_end = kFirstPort + 9;
    options_.worker_uid_range_start = kFirstUid;
    options_.worker_uid_range_end = kFirstUid + 9;
    options_.worker_gid = kGid;
    options_.uid_allocator = uids_;
    options_.state_dir = dir_ / ".workers";
  }
  void TearDown() override {
    backend_.reset();
    fs::remove_all(dir_);
  }

  void start() { backend_ = make_process_backend(options_); }

  fs::path write_app(const std::string& name, const std::string& app_r) {
    const fs::path app = dir_ / name;
    fs::create_directories(app);
    std::ofstream(app / "app.R") << app_r;
    return app;
  }

  WorkerSpec spec_for(const std::string& id, const fs::path& bundle) {
    WorkerSpec spec;
    spec.worker_id = id;
    spec.app_id = "app";
    spec.bundle_id = "b1";
    spec.bundle_path = bundle;
    return spec;
  }

  bool wait_healthy(const std::string& id, seconds timeout = seconds(40)) {
    return test_support::wait_healthy(*backend_, id, timeout);
  }

  bool wait_exited(const std::string& id, seconds timeout = seconds(40)) {
    return test_support::wait_exited(*backend_, id, timeout);
  }

  std::string log_of(const std::string& id) { return test_support::log_text(*backend_->logs(id)); }

  bool root() const { return ::geteuid() == 0; }

  static constexpr const char* kHelloApp =
      "library(shiny)\nshinyApp(fluidPage(\"hello\"), function(input, output) NULL)\n";

  fs::path dir_;
  std::shared_ptr<state::MemoryRangeAllocator> uids_;
  ProcessBackendOptions options_;
  std::unique_ptr<Backend> backend_;
};

TEST_F(WorkerIsolationTest, EachWorkerRunsUnderItsOwnHostUidAndTheWorkerGid) {
  if (!root()) GTEST_SKIP() << "distinct host UIDs need root";
  start();
  EXPECT_TRUE(backend_->limits_support().distinct_uids);
  const auto app = write_app("hello", kHelloApp);
  const Endpoint a = backend_->spawn(spec_for("wa", app));
  const Endpoint b = backend_->spawn(spec_for("wb", app));
  ASSERT_TRUE(wait_healthy("wa")) << log_of("wa");
  ASSERT_TRUE(wait_healthy("wb")) << log_of("wb");
  EXPECT_EQ(uids_->in_use(), 2);

  std::set<long> host_uids;
  for (const std::string id : {"wa", "wb"}) {
    const int r = r_pid_of(backend_->status(id)->pid);
    ASSERT_GT(r, 0) << id;
    const long uid = status_field(r, "Uid");
    EXPECT_GE(uid, kFirstUid) << id;
    EXPECT_LE(uid, kFirstUid + 9) << id;
    EXPECT_EQ(status_field(r, "Gid"), kGid) << id;
    if (backend_->limits_support().cgroup_mode != "none") {  // R sits in its worker's group
      EXPECT_THAT(read_file("/proc/" + std::to_string(r) + "/cgroup"),
                  HasSubstr("/blockyard/workers/" + instance_key(options_.state_dir) + "/" + id))
          << id;
    }
    host_uids.insert(uid);
    // Its directory belongs to that UID.
    struct stat st {};
    ASSERT_EQ(::stat((options_.state_dir / id).c_str(), &st), 0) << id;
    EXPECT_EQ(static_cast<long>(st.st_uid), uid);
    EXPECT_EQ(st.st_mode & 0777, 0700u);
    // bwrap itself (the monitor outside the sandbox) runs as the worker too.
    EXPECT_EQ(status_field(backend_->status(id)->pid, "Uid"), uid);
  }
  EXPECT_EQ(host_uids.size(), 2u);

  backend_->stop("wa", 3000);
  backend_->stop("wb", 3000);
  EXPECT_EQ(uids_->in_use(), 0);
  EXPECT_TRUE(listen_loopback(a.port).valid());
  EXPECT_TRUE(listen_loopback(b.port).valid());
  EXPECT_FALSE(fs::exists(options_.state_dir / "wa"));
  EXPECT_FALSE(fs::exists(options_.state_dir / "wb"));
}

TEST_F(WorkerIsolationTest, SpawnFailuresGiveBackPortUidDirectoryAndCgroup) {
  start();
  const auto app = write_app("hello", kHelloApp);
  auto bad_env = spec_for("bad-env", app);
  bad_env.env = {{"A=B", "x"}};  // rejected after port and UID were claimed
  EXPECT_ANY_THROW(backend_->spawn(bad_env));
  auto bad_limit = spec_for("bad-limit", app);
  bad_limit.memory_limit = "lots";
  EXPECT_ANY_THROW(backend_->spawn(bad_limit));
  EXPECT_THROW(backend_->spawn(spec_for("../escape", app)), std::runtime_error);
  EXPECT_EQ(uids_->in_use(), 0);
  EXPECT_TRUE(listen_loopback(kFirstPort).valid());
  EXPECT_TRUE(fs::is_empty(options_.state_dir));

  // The sandbox cannot start at all: bwrap was there when the backend
  // started and is gone by the spawn.
  backend_.reset();
  const fs::path vanishing_bwrap = dir_ / "bwrap-vanishing";
  std::ofstream(vanishing_bwrap) << "#!/bin/sh\nexit 1\n";
  fs::permissions(vanishing_bwrap,
                  fs::perms::owner_all | fs::perms::group_exec | fs::perms::others_exec);
  options_.bwrap_path = vanishing_bwrap;
  start();
  fs::remove(vanishing_bwrap);
  try {
    backend_->spawn(spec_for("gone", app));
    FAIL() << "spawn through a missing bwrap succeeded";
  } catch (const std::runtime_error& e) {
    EXPECT_THAT(e.what(), HasSubstr("bwrap-vanishing"));
  }
  EXPECT_EQ(uids_->in_use(), 0);
  EXPECT_TRUE(listen_loopback(kFirstPort).valid());
  EXPECT_FALSE(fs::exists(options_.state_dir / "gone"));
  const auto cgroups = CgroupManager::detect(instance_key(options_.state_dir));
  for (const auto& d : cgroups->instance_dirs()) EXPECT_FALSE(fs::exists(d / "gone")) << d;

  // An exhausted UID pool gives the port back.
  backend_.reset();
  options_.bwrap_path = ProcessBackendOptions{}.bwrap_path;
  options_.uid_allocator = std::make_shared<state::MemoryRangeAllocator>(kFirstUid, kFirstUid);
  start();
  backend_->spawn(spec_for("first", app));
  // More failures than there are ports: a leaked port would change the error.
  for (int i = 0; i < 12; ++i) {
    try {
      backend_->spawn(spec_for("second", app));
      FAIL() << "spawn without a free UID succeeded";
    } catch (const std::runtime_error& e) {
      EXPECT_THAT(e.what(), HasSubstr("worker UIDs in use")) << "attempt " << i;
    }
  }
}

// Builds a seccomp filter that fails unshare(2) with EPERM and allows the rest.
fs::path compile_deny_unshare(const fs::path& dir) {
  scmp_filter_ctx ctx = seccomp_init(SCMP_ACT_ALLOW);
  EXPECT_EQ(seccomp_rule_add(ctx, SCMP_ACT_ERRNO(EPERM), SCMP_SYS(unshare), 0), 0);
  const fs::path out = dir / "deny-unshare.bpf";
  const int fd = ::open(out.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  EXPECT_EQ(seccomp_export_bpf(ctx, fd), 0);
  ::close(fd);
  seccomp_release(ctx);
  return out;
}

TEST_F(WorkerIsolationTest, SeccompProfileIsLoadedIntoTheWorker) {
  const std::string probe =
      "out <- suppressWarnings(system('unshare --user --map-root-user true 2>&1; echo rc=$?', "
      "intern = TRUE))\ncat('UNSHARE:', paste(out, collapse = ' '), '\\n')\nquit(status = 0)\n";
  const auto app = write_app("probe", probe);
  // Without a filter, a user namespace can be made (the control).
  start();
  EXPECT_FALSE(backend_->limits_support().seccomp);
  backend_->spawn(spec_for("plain", app));
  ASSERT_TRUE(wait_exited("plain"));
  EXPECT_THAT(log_of("plain"), HasSubstr("rc=0")) << log_of("plain");

  backend_.reset();
  options_.seccomp_profile = compile_deny_unshare(dir_);
  start();
  EXPECT_TRUE(backend_->limits_support().seccomp);
  backend_->spawn(spec_for("filtered", app));
  ASSERT_TRUE(wait_exited("filtered"));
  const std::string log = log_of("filtered");
  EXPECT_THAT(log, HasSubstr("Operation not permitted"));
  EXPECT_THAT(log, Not(HasSubstr("rc=0")));

  options_.seccomp_profile = dir_ / "missing.bpf";
  EXPECT_THROW(make_process_backend(options_), std::invalid_argument);
}

TEST_F(WorkerIsolationTest, ForkBombAndMemoryBalloonStayInsideTheirLimits) {
  options_.default_pids_limit = 64;
  start();
  const auto support = backend_->limits_support();
  if (!support.pids || !support.memory)
    GTEST_SKIP() << "host offers no cgroup pids/memory control: " << support.detail;
  const auto hello = write_app("hello", kHelloApp);
  const Endpoint good = backend_->spawn(spec_for("good", hello));
  ASSERT_TRUE(wait_healthy("good")) << log_of("good");

  auto bomb = spec_for("bomb", write_app("bomb",
                                         "system(\"bash -c ':(){ :|:& };:'\", wait = FALSE)\n"
                                         "cat('BOMB_LIT\\n')\nSys.sleep(600)\n"));
  bomb.cpu_limit = 0.5;
  backend_->spawn(bomb);
  auto balloon = spec_for("balloon", write_app("balloon",
                                               "x <- numeric(1.25e8)\nx[] <- 1\n"
                                               "cat('BALLOON_SURVIVED', sum(x), '\\n')\n"));
  balloon.memory_limit = "200m";
  backend_->spawn(balloon);

  // The balloon dies inside its 200 MiB (OOM kill or allocation failure).
  ASSERT_TRUE(wait_exited("balloon"));
  EXPECT_NE(backend_->status("balloon")->exit_code, 0);
  EXPECT_THAT(log_of("balloon"), Not(HasSubstr("BALLOON_SURVIVED")));

  // The bomb runs into its pids limit while the other worker keeps serving.
  std::this_thread::sleep_for(seconds(3));
  const int bomb_pid = backend_->status("bomb")->pid;
  EXPECT_THAT(log_of("bomb"), HasSubstr("BOMB_LIT"));
  EXPECT_LE(descendants(bomb_pid).size(), 64u + 1);
  for (int i = 0; i < 5; ++i) {
    EXPECT_TRUE(backend_->health_check("good")) << "attempt " << i;
    std::this_thread::sleep_for(milliseconds(200));
  }
  EXPECT_EQ(backend_->status("good")->endpoint.port, good.port);

  // Stop takes the whole bomb down.
  auto tree = descendants(bomb_pid);
  backend_->stop("bomb", 1000);
  int survivors = 0;
  for (int pid : tree) survivors += process_alive(pid) ? 1 : 0;
  EXPECT_EQ(survivors, 0);
  EXPECT_TRUE(backend_->health_check("good"));
}

// A server dies by SIGKILL; the next one finds and removes what it left.
TEST_F(WorkerIsolationTest, CleanupOrphansAfterACrashedServer) {
  const auto app = write_app("hello", kHelloApp);
  int report[2];
  ASSERT_EQ(::pipe(report), 0);
  const pid_t server = ::fork();  // no backend (and no thread) exists in this process yet
  if (server == 0) {
    ::close(report[0]);
    auto crashed = make_process_backend(options_);
    crashed->spawn(spec_for("left", app));
    for (int i = 0; i < 400 && !crashed->health_check("left"); ++i)
      std::this_thread::sleep_for(milliseconds(100));
    const int pids[2] = {crashed->status("left")->pid, r_pid_of(crashed->status("left")->pid)};
    [[maybe_unused]] auto n = ::write(report[1], pids, sizeof pids);
    ::pause();
    ::_exit(0);
  }
  ::close(report[1]);
  int pids[2] = {0, 0};
  ASSERT_EQ(::read(report[0], pids, sizeof pids), static_cast<ssize_t>(sizeof pids));
  ::close(report[0]);
  ASSERT_GT(pids[1], 0) << "the worker never came up";
  ::kill(server, SIGKILL);
  ::waitpid(server, nullptr, 0);

  // Besides what the crash left, a marked process that escaped every
  // parent-death signal (started double-forked, so init is its parent).
  const std::string instance = instance_key(options_.state_dir);
  const pid_t launcher = ::fork();
  if (launcher == 0) {
    if (::fork() == 0) {
      ::setsid();
      const std::string marker = sandbox_marker(instance, "escaped");
      char* const argv[] = {const_cast<char*>("/bin/sleep"), const_cast<char*>("300"), nullptr};
      char* const envp[] = {const_cast<char*>(marker.c_str()), nullptr};
      ::execve("/bin/sleep", argv, envp);
      ::_exit(127);
    }
    ::_exit(0);
  }
  ::waitpid(launcher, nullptr, 0);
  std::vector<std::pair<int, std::string>> marked;
  for (int i = 0; i < 100 && marked.empty(); ++i) {
    std::this_thread::sleep_for(milliseconds(20));
    for (const auto& m : find_marked_processes(instance))
      if (m.second == "escaped") marked.push_back(m);
  }
  ASSERT_EQ(marked.size(), 1u);
  const int escaped = marked.front().first;
  // And a stray process in a leftover worker cgroup.
  const auto cgroups = CgroupManager::detect(instance);
  int stray = 0;
  if (cgroups->enabled()) {
    stray = ::fork();
    if (stray == 0) {
      ::execl("/bin/sleep", "sleep", "300", nullptr);
      ::_exit(127);
    }
    for (const auto& d : cgroups->instance_dirs()) {
      fs::create_directories(d / "stray");
      std::ofstream(d / "stray" / "cgroup.procs") << stray;
    }
  }

  EXPECT_TRUE(fs::exists(options_.state_dir / "left"));
  start();
  const std::size_t killed = backend_->cleanup_orphans();
  EXPECT_GE(killed, 1u + (stray > 0 ? 1 : 0));
  for (int i = 0;
       i < 100 && (process_alive(escaped) || process_alive(pids[0]) || process_alive(pids[1])); ++i)
    std::this_thread::sleep_for(milliseconds(20));
  EXPECT_FALSE(process_alive(escaped));
  EXPECT_FALSE(process_alive(pids[0]));  // bwrap of the crashed server
  EXPECT_FALSE(process_alive(pids[1]));  // its R
  if (stray > 0) {
    int status = 0;
    EXPECT_EQ(::waitpid(stray, &status, 0), stray);
    EXPECT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
    for (const auto& d : cgroups->instance_dirs()) {
      EXPECT_FALSE(fs::exists(d / "stray")) << d;
      EXPECT_FALSE(fs::exists(d / "left")) << d;
    }
  }
  EXPECT_FALSE(fs::exists(options_.state_dir / "left"));
  EXPECT_TRUE(find_marked_processes(instance).empty());
  // The new server starts from a clean slate.
  EXPECT_EQ(backend_->spawn(spec_for("fresh", app)).port, kFirstPort);
  EXPECT_EQ(uids_->in_use(), 1);
}

}  // namespace
}  // namespace blockyard::backend::process
