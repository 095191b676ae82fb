// ProcessBackend::build(): run-to-completion jobs in the worker sandbox, with
// real bwrap and real Rscript.
#include "backend/process/build_job.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <future>
#include <sstream>
#include <thread>

#include "backend/process/backend_waits_for_test.h"
#include "backend/process/process_backend.h"
#include "backend/process/sandbox_marker.h"
#include "state/memory_range_allocator.h"

namespace blockyard::backend::process {
namespace {

namespace fs = std::filesystem;
using std::chrono::milliseconds;
using std::chrono::seconds;
using ::testing::HasSubstr;

constexpr int kFirstUid = 61500;

std::string read_file(const fs::path& path) {
  std::ifstream in(path);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

// Pids whose command line contains `needle` (any process on the host).
std::vector<int> processes_with_arg(const std::string& needle) {
  std::vector<int> out;
  std::error_code ec;
  for (const auto& e : fs::directory_iterator("/proc", ec)) {
    const std::string name = e.path().filename().string();
    if (name.find_first_not_of("0123456789") != std::string::npos) continue;
    std::string cmdline = read_file(e.path() / "cmdline");
    std::replace(cmdline.begin(), cmdline.end(), '\0', ' ');
    if (cmdline.find(needle) != std::string::npos) out.push_back(std::stoi(name));
  }
  return out;
}

// Param: run sandboxes under per-job host UIDs (ProcessOptions::run_as, as root)
// or under the server's own UID.
class BuildJobTest : public ::testing::TestWithParam<bool> {
 protected:
  void SetUp() override {
    if (!fs::exists("/usr/bin/bwrap") || !fs::exists("/usr/bin/Rscript"))
      GTEST_SKIP() << "needs /usr/bin/bwrap and /usr/bin/Rscript";
    if (GetParam() && ::geteuid() != 0) GTEST_SKIP() << "per-job UIDs need root";
    dir_ = fs::temp_directory_path() /
           ("by-build-" + std::to_string(::getpid()) + "-" +
            std::to_string(::testing::UnitTest::GetInstance()->random_seed()) + "-" +
            (GetParam() ? "uid" : "own"));
    fs::remove_all(dir_);
    fs::create_directories(dir_ / "bundle");
    // Like a real data directory: closed to everyone else, job UIDs included.
    fs::permissions(dir_, fs::perms::owner_all, fs::perm_options::replace);
    std::ofstream(dir_ / "bundle" / "DESCRIPTION") << "Package: demo\n";
    // Each variant its own ports and UIDs: ctest runs them in parallel.
    const int offset = GetParam() ? 10 : 0;
    first_uid_ = kFirstUid + offset;
    uids_ = std::make_shared<state::MemoryRangeAllocator>(first_uid_, first_uid_ + 9);
    options_.port_range_start = 23500 + offset;
    options_.port_range_end = 23509 + offset;
    options_.worker_uid_range_start = first_uid_;
    options_.worker_uid_range_end = first_uid_ + 9;
    options_.uid_allocator = uids_;
    options_.state_dir = dir_ / ".workers";
    options_.worker_identities = GetParam();
    backend_ = make_process_backend(options_);
  }
  void TearDown() override {
    backend_.reset();
    fs::remove_all(dir_);
  }

  BuildSpec spec_for(const std::string& id, const std::string& r_code) {
    BuildSpec spec;
    spec.build_id = id;
    spec.app_id = "app";
    spec.command = {"Rscript", "-e", r_code};
    spec.bundle_path = dir_ / "bundle";
    spec.output_path = dir_ / ("out-" + id);
    spec.log = std::make_shared<LineLog>();
    spec.timeout = seconds(60);
    return spec;
  }

  // Nothing of the job is left: UID back, no cgroup, no scratch directory.
  void expect_released(const std::string& id) {
    EXPECT_EQ(uids_->in_use(), 0);
    const std::string instance = instance_key(options_.state_dir);
    const auto cgroups = CgroupManager::detect(instance);
    for (const auto& base : cgroups->instance_dirs())
      EXPECT_FALSE(fs::exists(base / build_job_name(id))) << base;
    for (const auto& [pid, name] : find_marked_processes(instance))
      EXPECT_NE(name, build_job_name(id)) << "pid " << pid << " still runs";
  }

  fs::path dir_;
  std::shared_ptr<state::MemoryRangeAllocator> uids_;
  int first_uid_ = 0;  // this variant's UID range starts here
  ProcessBackendOptions options_;
  std::unique_ptr<Backend> backend_;
};

TEST_P(BuildJobTest, JobWritesIntoTheOutputDirectoryAndReadsTheBundle) {
  auto spec = spec_for("write",
                       "stopifnot(getwd() == '/app', file.exists('DESCRIPTION'));"
                       "dir.create('/out/lib/demo', recursive = TRUE);"
                       "file.copy('/app/DESCRIPTION', '/out/lib/demo/DESCRIPTION');"
                       "writeLines(system('id -u', intern = TRUE), '/out/uid.txt');"
                       "cat('done\\n')");
  const BuildResult r = backend_->build(spec);
  ASSERT_TRUE(r.success()) << r.error << " exit " << r.exit_code << "\n"
                           << test_support::log_text(*spec.log);
  EXPECT_EQ(r.exit_code, 0);
  EXPECT_FALSE(r.timed_out);
  EXPECT_THAT(test_support::log_text(*spec.log), HasSubstr("done"));
  EXPECT_EQ(read_file(spec.output_path / "lib/demo/DESCRIPTION"), "Package: demo\n");
  // Inside, the job ran under a UID of the worker range.
  const int job_uid = std::stoi(read_file(spec.output_path / "uid.txt"));
  EXPECT_GE(job_uid, first_uid_);
  EXPECT_LE(job_uid, first_uid_ + 9);
  // Afterwards everything belongs to the server, not to the (reusable) job UID.
  for (const fs::path& p :
       {spec.output_path, spec.output_path / "uid.txt", spec.output_path / "lib/demo",
        spec.output_path / "lib/demo/DESCRIPTION"}) {
    struct stat st {};
    ASSERT_EQ(::lstat(p.c_str(), &st), 0) << p;
    EXPECT_EQ(st.st_uid, ::geteuid()) << p;
    EXPECT_EQ(st.st_gid, ::getegid()) << p;
  }
  expect_released("write");
}

TEST_P(BuildJobTest, JobCannotWriteToTheBundle) {
  auto spec = spec_for("ro", "writeLines('x', '/app/evil.txt')");
  const BuildResult r = backend_->build(spec);
  EXPECT_FALSE(r.success());
  EXPECT_TRUE(r.error.empty()) << r.error;
  EXPECT_NE(r.exit_code, 0);
  EXPECT_FALSE(fs::exists(dir_ / "bundle" / "evil.txt"));
  EXPECT_THAT(test_support::log_text(*spec.log), HasSubstr("Read-only file system"));
  expect_released("ro");
}

TEST_P(BuildJobTest, FailingJobReturnsItsExitCodeAndItsStderr) {
  auto spec = spec_for("fail", "message('about to fail'); quit(status = 3)");
  const BuildResult r = backend_->build(spec);
  EXPECT_FALSE(r.success());
  EXPECT_EQ(r.exit_code, 3);
  EXPECT_FALSE(r.timed_out);
  EXPECT_THAT(test_support::log_text(*spec.log), HasSubstr("about to fail"));
  expect_released("fail");
}

TEST_P(BuildJobTest, JobPastItsTimeoutIsKilledWithEverythingItStarted) {
  // A background child too, which must not survive the job.
  auto spec = spec_for("slow", "system('sleep 4242.5 &'); message('started'); Sys.sleep(4243.5)");
  spec.timeout = seconds(4);
  const auto begin = std::chrono::steady_clock::now();
  const BuildResult r = backend_->build(spec);
  const auto took = std::chrono::steady_clock::now() - begin;
  EXPECT_TRUE(r.timed_out);
  EXPECT_FALSE(r.success());
  EXPECT_NE(r.exit_code, 0);
  EXPECT_LT(took, seconds(20));
  const std::string log = test_support::log_text(*spec.log);
  EXPECT_THAT(log, HasSubstr("started"));  // the child had been started
  EXPECT_THAT(log, HasSubstr("timed out"));
  // The pid namespace dies with the job; give the kernel a moment to reap.
  for (int i = 0; i < 50 && !processes_with_arg("4242.5").empty(); ++i)
    std::this_thread::sleep_for(milliseconds(100));
  EXPECT_TRUE(processes_with_arg("4242.5").empty());
  EXPECT_TRUE(processes_with_arg("4243.5").empty());
  expect_released("slow");
}

TEST_P(BuildJobTest, LogLinesArriveWhileTheJobRuns) {
  auto spec = spec_for("live", "message('first line'); Sys.sleep(4); message('second line')");
  auto log = spec.log;
  auto running = std::async(std::launch::async, [&] { return backend_->build(spec); });
  bool seen_first = false;
  std::size_t next = 0;
  const auto deadline = std::chrono::steady_clock::now() + seconds(30);
  while (!seen_first && std::chrono::steady_clock::now() < deadline) {
    auto slice = log->wait_from(next, 200);
    for (const auto& l : slice.lines) seen_first = seen_first || l == "first line";
    next = slice.next;
  }
  ASSERT_TRUE(seen_first) << test_support::log_text(*log);
  // Seen before the job ended: the second line is not there yet.
  EXPECT_EQ(running.wait_for(milliseconds(0)), std::future_status::timeout);
  EXPECT_THAT(test_support::log_text(*log), ::testing::Not(HasSubstr("second line")));
  const BuildResult r = running.get();
  EXPECT_TRUE(r.success()) << r.error;
  EXPECT_THAT(test_support::log_text(*log), HasSubstr("second line"));
  EXPECT_FALSE(log->closed());  // the caller's log stays open for its own lines
}

TEST_P(BuildJobTest, SetupFailuresAreReportedAndReleaseEverything) {
  auto spec = spec_for("missing", "1");
  spec.bundle_path = dir_ / "no-such-bundle";
  BuildResult r = backend_->build(spec);
  EXPECT_FALSE(r.success());
  EXPECT_THAT(r.error, HasSubstr("no-such-bundle"));
  EXPECT_THAT(test_support::log_text(*spec.log), HasSubstr("no-such-bundle"));

  spec = spec_for("bad id!", "1");
  r = backend_->build(spec);
  EXPECT_THAT(r.error, HasSubstr("build id"));

  spec = spec_for("bad-r", "1");
  spec.command = {};
  r = backend_->build(spec);
  EXPECT_THAT(r.error, HasSubstr("empty command"));
  EXPECT_EQ(uids_->in_use(), 0);
}

INSTANTIATE_TEST_SUITE_P(Identities, BuildJobTest, ::testing::Bool(),
                         [](const auto& info) { return info.param ? "JobUid" : "ServerUid"; });

}  // namespace
}  // namespace blockyard::backend::process
