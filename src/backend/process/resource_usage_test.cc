// ProcessBackend::resource_usage() against real workers (bwrap + R), read
// from the worker's cgroup and, with cgroups off, from /proc.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <thread>

#include "backend/process/backend_waits_for_test.h"
#include "backend/process/process_backend.h"

namespace blockyard::backend::process {
namespace {

namespace fs = std::filesystem;
using std::chrono::milliseconds;
using std::chrono::seconds;

constexpr int kFirstPort = 23400;
constexpr std::uint64_t kMiB = 1024 * 1024;

constexpr const char* kIdleApp =
    "library(shiny)\n"
    "shinyApp(fluidPage('idle'), function(input, output) {})\n";
// ~200 MB of doubles, every page written so it is resident.
constexpr const char* kBalloonApp =
    "balloon <- numeric(25e6); balloon[] <- 1\n"
    "library(shiny)\n"
    "shinyApp(fluidPage('balloon'), function(input, output) {})\n";
constexpr const char* kBusyApp = "message('spinning'); repeat {}\n";

// Param: whether the backend may use cgroups (false = the /proc fallback).
class ResourceUsageTest : public ::testing::TestWithParam<bool> {
 protected:
  void SetUp() override {
    if (!fs::exists("/usr/bin/bwrap") || !fs::exists("/usr/bin/Rscript"))
      GTEST_SKIP() << "needs /usr/bin/bwrap and /usr/bin/Rscript";
    dir_ = fs::temp_directory_path() /
           ("by-usage-" + std::to_string(::getpid()) + "-" +
            std::to_string(::testing::UnitTest::GetInstance()->random_seed()) + "-" +
            (GetParam() ? "cg" : "proc"));
    fs::remove_all(dir_);
    fs::create_directories(dir_);
    // Each variant its own ports and UIDs: ctest runs them in parallel.
    const int offset = GetParam() ? 10 : 0;
    options_.port_range_start = kFirstPort + offset;
    options_.port_range_end = kFirstPort + offset + 9;
    options_.worker_uid_range_start = 61400 + offset;
    options_.worker_uid_range_end = 61409 + offset;
    options_.state_dir = dir_ / ".workers";
    options_.use_cgroups = GetParam();
    backend_ = make_process_backend(options_);
  }
  void TearDown() override {
    backend_.reset();
    fs::remove_all(dir_);
  }

  WorkerSpec spec_for(const std::string& id, const std::string& app_r) {
    const fs::path app = dir_ / ("app-" + id);
    fs::create_directories(app);
    std::ofstream(app / "app.R") << app_r;
    WorkerSpec spec;
    spec.worker_id = id;
    spec.app_id = "app";
    spec.bundle_id = "b1";
    spec.bundle_path = app;
    return spec;
  }

  bool wait_healthy(const std::string& id, seconds timeout = seconds(60)) {
    return test_support::wait_healthy(*backend_, id, timeout);
  }

  std::string log_of(const std::string& id) { return test_support::log_text(*backend_->logs(id)); }

  fs::path dir_;
  ProcessBackendOptions options_;
  std::unique_ptr<Backend> backend_;
};

TEST_P(ResourceUsageTest, UnknownWorkerHasNoUsage) {
  EXPECT_FALSE(backend_->resource_usage("nobody").has_value());
}

TEST_P(ResourceUsageTest, AWorkerHoldingTwoHundredMegabytesReportsMoreThanAnIdleOne) {
  WorkerSpec balloon = spec_for("balloon", kBalloonApp);
  balloon.memory_limit = "1g";
  backend_->spawn(spec_for("idle", kIdleApp));
  backend_->spawn(balloon);
  ASSERT_TRUE(wait_healthy("idle")) << log_of("idle");
  ASSERT_TRUE(wait_healthy("balloon")) << log_of("balloon");

  const auto idle = backend_->resource_usage("idle");
  const auto big = backend_->resource_usage("balloon");
  ASSERT_TRUE(idle.has_value());
  ASSERT_TRUE(big.has_value());
  EXPECT_GT(idle->memory_bytes, 20 * kMiB);  // R with shiny loaded is resident
  EXPECT_GT(big->memory_bytes, idle->memory_bytes + 150 * kMiB)
      << "idle " << idle->memory_bytes / kMiB << " MiB, balloon " << big->memory_bytes / kMiB
      << " MiB (" << big->source << ")";
  EXPECT_GE(big->processes, 2);  // bwrap and R at least
  const bool cgroup_memory = GetParam() && backend_->limits_support().memory;
  EXPECT_EQ(big->memory_limit_bytes, cgroup_memory ? 1024 * kMiB : 0);
  EXPECT_EQ(idle->memory_limit_bytes, 0u);
  EXPECT_EQ(big->source.find("cgroup") != std::string::npos, cgroup_memory) << big->source;

  backend_->stop("balloon", 2000);
  EXPECT_FALSE(backend_->resource_usage("balloon").has_value());
}

TEST_P(ResourceUsageTest, CpuTimeGrowsWhileTheWorkerSpins) {
  backend_->spawn(spec_for("busy", kBusyApp));
  backend_->spawn(spec_for("calm", kIdleApp));
  ASSERT_TRUE(wait_healthy("calm")) << log_of("calm");
  const auto first = backend_->resource_usage("busy");
  ASSERT_TRUE(first.has_value()) << log_of("busy");
  EXPECT_EQ(first->cpu_percent, 0);  // no earlier sample
  const auto calm_first = backend_->resource_usage("calm");
  ASSERT_TRUE(calm_first.has_value());
  std::this_thread::sleep_for(milliseconds(2000));
  const auto second = backend_->resource_usage("busy");
  const auto calm_second = backend_->resource_usage("calm");
  ASSERT_TRUE(second.has_value());
  ASSERT_TRUE(calm_second.has_value());
  // One spinning core on a shared 2-core machine: at least a third of the time.
  EXPECT_GT(second->cpu_seconds - first->cpu_seconds, 0.6) << second->source;
  EXPECT_GT(second->cpu_percent, 30);
  EXPECT_LT(calm_second->cpu_seconds - calm_first->cpu_seconds, 0.5);
  EXPECT_LT(calm_second->cpu_percent, 25);
}

INSTANTIATE_TEST_SUITE_P(CgroupsAndProcfs, ResourceUsageTest, ::testing::Bool(),
                         [](const auto& info) { return info.param ? "cgroups" : "procfs"; });

}  // namespace
}  // namespace blockyard::backend::process
