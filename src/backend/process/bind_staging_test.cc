// stage_binds() with a real WorkerProcess dropping to a worker UID: a
// worker UID reaches its bundle, read-only, out of a directory it cannot
// traverse, and the host's mount table never changes. (The by-path fallback
// without CAP_SYS_ADMIN is exercised end to end by tests/container/pid1.)
#include "backend/process/bind_staging.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "backend/process/backend_waits_for_test.h"

namespace blockyard::backend::process {
namespace {

namespace fs = std::filesystem;
using std::chrono::milliseconds;
using ::testing::HasSubstr;

// A 0700 directory under /tmp (the staging tmpfs covers /tmp: sources there
// must still work) holding bundle/app.R, and an output directory.
class BindStagingTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/by-stage-XXXXXX";
    ASSERT_NE(::mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
    ASSERT_TRUE(fs::create_directory(dir_ / "bundle"));
    std::ofstream(dir_ / "bundle" / "app.R") << "staged bundle\n";
    ::chmod((dir_ / "bundle" / "app.R").c_str(), 0644);
  }
  void TearDown() override { fs::remove_all(dir_); }

  fs::path dir_;
};

TEST_F(BindStagingTest, AsTheServersOwnUidBindsKeepTheirHostPaths) {
  std::vector<SandboxBind> binds{{dir_ / "bundle", "/app", true}};
  EXPECT_TRUE(stage_binds(binds, false).empty());
  EXPECT_EQ(binds[0].source, dir_ / "bundle");
}

TEST_F(BindStagingTest, TooManyBindsAreRefusedWhenStaging) {
  if (::geteuid() != 0 || !can_stage_private_mounts()) GTEST_SKIP() << "needs CAP_SYS_ADMIN";
  std::vector<SandboxBind> binds(kMaxPrivateBinds + 1, SandboxBind{dir_, "/x", true});
  EXPECT_THROW(stage_binds(binds, true), std::runtime_error);
}

TEST_F(BindStagingTest, WorkerUidReadsItsStagedBundleButNotTheDirectoryAroundIt) {
  if (::geteuid() != 0 || !can_stage_private_mounts()) GTEST_SKIP() << "needs CAP_SYS_ADMIN";
  std::vector<SandboxBind> binds{{dir_ / "bundle", "/app", true}};
  ProcessOptions run;
  run.private_binds = stage_binds(binds, true);
  ASSERT_EQ(run.private_binds.size(), 1u);
  const std::string staged = binds[0].source.string();
  EXPECT_EQ(binds[0].source.parent_path(), fs::path(kPrivateStagingDir));
  EXPECT_EQ(binds[0].target, fs::path("/app"));

  // /bin/sh stands in for bwrap, started as the worker UID.
  run.argv = {"/bin/sh", "-c",
              "cat " + staged + "/app.R; ls " + dir_.string() + " 2>&1; touch " + staged +
                  "/w 2>&1; echo done"};
  run.run_as = ProcessOptions::Identity{60123, 65534};
  run.log = std::make_shared<LineLog>();
  auto log = run.log;
  auto process = WorkerProcess::start(std::move(run));
  ASSERT_TRUE(process->wait_finished(milliseconds(10000)));
  const std::string out = test_support::log_text(*log);
  EXPECT_EQ(process->exit_code(), 0) << out;
  EXPECT_THAT(out, HasSubstr("staged bundle"));
  EXPECT_THAT(out, HasSubstr("ls: cannot access"));  // the directory around stays closed
  EXPECT_THAT(out, HasSubstr("Read-only file system"));
  EXPECT_THAT(out, HasSubstr("done"));
  EXPECT_FALSE(fs::exists(kPrivateStagingDir));  // the host's /tmp is untouched
  EXPECT_FALSE(fs::exists(dir_ / "bundle" / "w"));
}

}  // namespace
}  // namespace blockyard::backend::process
