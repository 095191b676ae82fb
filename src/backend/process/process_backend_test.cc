// End-to-end tests of the process backend: real bwrap, real R, real shiny.
#include "backend/process/process_backend.h"
#include "backend/process/backend_waits_for_test.h"

#include <arpa/inet.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <condition_variable>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <thread>

#include "backend/process/http_probe.h"
#include "backend/process/port_allocator.h"
#include "backend/process/process_tree.h"

namespace blockyard::backend::process {
namespace {

namespace fs = std::filesystem;
using std::chrono::milliseconds;
using std::chrono::seconds;
using ::testing::HasSubstr;

constexpr int kFirstPort = 23200;

// GET / over plain TCP; the whole response ("" on failure).
std::string http_get(int port) {
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(port));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  timeval tv{5, 0};
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  std::string response;
  if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0) {
    const std::string req = "GET / HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n";
    if (::send(fd, req.data(), req.size(), MSG_NOSIGNAL) == static_cast<ssize_t>(req.size())) {
      char buf[4096];
      for (ssize_t n; (n = ::recv(fd, buf, sizeof buf, 0)) > 0;) response.append(buf, n);
    }
  }
  ::close(fd);
  return response;
}

class ProcessBackendTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!fs::exists("/usr/bin/bwrap") || !fs::exists("/usr/bin/Rscript"))
      GTEST_SKIP() << "needs /usr/bin/bwrap and /usr/bin/Rscript";
    dir_ = fs::temp_directory_path() /
           ("by-backend-" + std::to_string(::getpid()) + "-" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_);
    options_.port_range_start = kFirstPort;
    options_.port_range_end = kFirstPort + 9;
    options_.state_dir = dir_ / ".workers";
    options_.worker_env = {{"BY_OPERATOR_VAR", "from-worker-env"}};
    backend_ = make_process_backend(options_);
  }
  void TearDown() override {
    backend_.reset();
    fs::remove_all(dir_);
  }

  fs::path write_app(const std::string& name, std::map<std::string, std::string> files) {
    const fs::path app = dir_ / name;
    fs::create_directories(app);
    for (const auto& [file, text] : files) std::ofstream(app / file) << text;
    return app;
  }

  WorkerSpec spec_for(const std::string& id, const fs::path& bundle) {
    WorkerSpec spec;
    spec.worker_id = id;
    spec.app_id = "app-" + id;
    spec.bundle_id = "bundle-1";
    spec.bundle_path = bundle;
    return spec;
  }

  bool wait_healthy(const std::string& id, seconds timeout = seconds(30)) {
    return test_support::wait_healthy(*backend_, id, timeout);
  }

  bool wait_exited(const std::string& id, seconds timeout = seconds(30)) {
    return test_support::wait_exited(*backend_, id, timeout);
  }

  // Waits until the worker's log holds a line starting with `marker`.
  std::string wait_log_line(const std::string& id, const std::string& marker,
                            seconds timeout = seconds(30)) {
    auto log = backend_->logs(id);
    if (!log) return "";
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    std::size_t next = 0;
    while (std::chrono::steady_clock::now() < deadline) {
      auto slice = log->wait_from(next, 200);
      for (const auto& l : slice.lines)
        if (l.rfind(marker, 0) == 0) return l;
      next = slice.next;
      if (slice.closed) break;
    }
    return "";
  }

  static constexpr const char* kHelloApp =
      "library(shiny)\n"
      "shinyApp(fluidPage(textOutput(\"x\")), function(input, output) "
      "output$x <- renderText(\"hi\"))\n";

  fs::path dir_;
  ProcessBackendOptions options_;
  std::unique_ptr<Backend> backend_;
};

TEST_F(ProcessBackendTest, ServesAShinyApp) {
  const auto app = write_app("hello", {{"app.R", kHelloApp}});
  const Endpoint ep = backend_->spawn(spec_for("w1", app));
  EXPECT_EQ(ep.host, "127.0.0.1");
  EXPECT_GE(ep.port, kFirstPort);
  EXPECT_LE(ep.port, kFirstPort + 9);
  ASSERT_TRUE(wait_healthy("w1")) << test_support::log_text(*backend_->logs("w1"));
  const std::string page = http_get(ep.port);
  EXPECT_THAT(page, HasSubstr("HTTP/1.1 200"));
  EXPECT_THAT(page, HasSubstr("shiny"));

  const auto s = backend_->status("w1");
  ASSERT_TRUE(s);
  EXPECT_TRUE(s->running);
  EXPECT_GT(s->pid, 0);
  EXPECT_EQ(s->app_id, "app-w1");
  EXPECT_EQ(s->endpoint.port, ep.port);
  EXPECT_FALSE(s->started_at.empty());
  ASSERT_EQ(backend_->list_managed().size(), 1u);
  EXPECT_THROW(backend_->spawn(spec_for("w1", app)), std::runtime_error);  // already running
}

TEST_F(ProcessBackendTest, ServesAUiServerApp) {
  const auto app = write_app(
      "split", {{"ui.R", "fluidPage(textOutput(\"x\"))\n"},
                {"server.R", "function(input, output) output$x <- renderText(\"split\")\n"}});
  const Endpoint ep = backend_->spawn(spec_for("split", app));
  ASSERT_TRUE(wait_healthy("split")) << test_support::log_text(*backend_->logs("split"));
  EXPECT_THAT(http_get(ep.port), HasSubstr("shiny"));
}

TEST_F(ProcessBackendTest, SandboxHidesTheHost) {
  ::setenv("BY_TEST_CANARY", "server-secret", 1);
  const fs::path host_marker =
      fs::temp_directory_path() / ("by-host-marker-" + std::to_string(::getpid()));
  std::ofstream(host_marker) << "x";
  const std::string probe = R"(
fact <- function(name, value) cat(name, "=", paste(value, collapse = ","), "\n", sep = "")
fact("CANARY", Sys.getenv("BY_TEST_CANARY", "<unset>"))
fact("OPERATOR", Sys.getenv("BY_OPERATOR_VAR", "<unset>"))
fact("SPAWN", Sys.getenv("BY_SPAWN_VAR", "<unset>"))
fact("SHINY_PORT", Sys.getenv("SHINY_PORT"))
fact("HOME", Sys.getenv("HOME"))
fact("PATH", Sys.getenv("PATH"))
fact("CWD", getwd())
fact("APP_WRITABLE", suppressWarnings(file.create("/app/probe.txt")))
fact("ROOT_WRITABLE", suppressWarnings(file.create("/probe.txt")))
fact("TMP_WRITABLE", file.create("/tmp/probe.txt"))
fact("HOST_MARKER", file.exists(Sys.getenv("HOST_MARKER")))
fact("TMP_FOREIGN", setdiff(list.files("/tmp", all.files = TRUE, no.. = TRUE),
                            c("probe.txt", basename(tempdir()))))
fact("MYPID", Sys.getpid())
fact("HOST_PID_VISIBLE", file.exists(file.path("/proc", Sys.getenv("TEST_PID"))))
fact("PROC_COUNT", length(grep("^[0-9]+$", list.files("/proc"))))
cat("FACTS_DONE\n")
library(shiny)
shinyApp(fluidPage("probe"), function(input, output) NULL)
)";
  const auto app = write_app("probe", {{"app.R", probe}});
  auto spec = spec_for("probe", app);
  spec.env = {{"BY_SPAWN_VAR", "from-spawn"},
              {"TEST_PID", std::to_string(::getpid())},
              {"HOST_MARKER", host_marker.string()},
              {"SHINY_PORT", "1"}};
  const Endpoint ep = backend_->spawn(spec);
  ASSERT_FALSE(wait_log_line("probe", "FACTS_DONE").empty())
      << test_support::log_text(*backend_->logs("probe"));
  auto fact = [&](const std::string& name) {
    const std::string line = wait_log_line("probe", name + "=", seconds(1));
    return line.empty() ? "<missing>" : line.substr(name.size() + 1);
  };
  EXPECT_EQ(fact("CANARY"), "<unset>");  // the server's environment stays out
  EXPECT_EQ(fact("OPERATOR"), "from-worker-env");
  EXPECT_EQ(fact("SPAWN"), "from-spawn");
  EXPECT_EQ(fact("SHINY_PORT"), std::to_string(ep.port));  // not overridable
  EXPECT_EQ(fact("HOME"), "/tmp");
  EXPECT_EQ(fact("PATH"), "/usr/bin:/bin");
  EXPECT_EQ(fact("CWD"), "/app");
  EXPECT_EQ(fact("APP_WRITABLE"), "FALSE");
  EXPECT_EQ(fact("ROOT_WRITABLE"), "FALSE");
  EXPECT_EQ(fact("TMP_WRITABLE"), "TRUE");
  EXPECT_EQ(fact("HOST_MARKER"), "FALSE");  // /tmp is private
  EXPECT_EQ(fact("TMP_FOREIGN"), "");
  EXPECT_LE(std::stoi(fact("MYPID")), 10);  // a fresh pid namespace
  EXPECT_EQ(fact("HOST_PID_VISIBLE"), "FALSE");
  EXPECT_LE(std::stoi(fact("PROC_COUNT")), 10);
  EXPECT_FALSE(fs::exists(app / "probe.txt"));
  EXPECT_FALSE(fs::exists("/probe.txt"));
  ASSERT_TRUE(wait_healthy("probe"));
  fs::remove(host_marker);
}

TEST_F(ProcessBackendTest, BrokenAppExitsAndKeepsItsLog) {
  const auto broken = write_app("broken", {{"app.R", "shinyApp(ui = fluidPage(,\n"}});
  const Endpoint ep = backend_->spawn(spec_for("broken", broken));
  ASSERT_TRUE(wait_exited("broken"));
  const auto s = backend_->status("broken");
  ASSERT_TRUE(s);
  EXPECT_FALSE(s->running);
  EXPECT_NE(s->exit_code, 0);
  EXPECT_FALSE(backend_->health_check("broken"));
  auto log = backend_->logs("broken");
  ASSERT_TRUE(log);
  EXPECT_TRUE(log->closed());
  EXPECT_THAT(test_support::log_text(*log), HasSubstr("Error"));
  EXPECT_EQ(backend_->list_managed().size(), 1u);  // kept until stop()

  // Its port went back to the pool: the next worker gets it.
  const auto hello = write_app("hello", {{"app.R", kHelloApp}});
  EXPECT_EQ(backend_->spawn(spec_for("next", hello)).port, ep.port);
  // An exited worker's id can be reused.
  EXPECT_NO_THROW(backend_->spawn(spec_for("broken", hello)));
}

TEST_F(ProcessBackendTest, StopLeavesNoProcessAndFreesThePort) {
  const auto app = write_app("hello", {{"app.R", kHelloApp}});
  const Endpoint ep = backend_->spawn(spec_for("w", app));
  ASSERT_TRUE(wait_healthy("w"));
  const int bwrap_pid = backend_->status("w")->pid;
  std::vector<int> tree = descendants(bwrap_pid);
  tree.push_back(bwrap_pid);
  ASSERT_GE(tree.size(), 3u);  // bwrap, the sandbox's pid 1, R

  const auto before = std::chrono::steady_clock::now();
  backend_->stop("w", 5000);
  // R got SIGTERM (bwrap forwards nothing); no need to wait for the grace period.
  EXPECT_LT(std::chrono::steady_clock::now() - before, seconds(4));
  // bwrap and R are gone and reaped at once.
  for (std::size_t i = 1; i < tree.size(); ++i)
    EXPECT_FALSE(fs::exists("/proc/" + std::to_string(tree[i]))) << tree[i];
  // The sandbox's pid 1 (tree[0]) finishes exiting just after bwrap returns
  // (bwrap does not wait for it); it may then linger as a zombie until the
  // host's init reaps it, but it never keeps running.
  for (int i = 0; i < 100 && process_alive(tree[0]); ++i)
    std::this_thread::sleep_for(milliseconds(20));
  EXPECT_FALSE(process_alive(tree[0]));
  EXPECT_FALSE(backend_->status("w")) << "a stopped worker leaves the table";
  EXPECT_FALSE(backend_->health_check("w"));
  EXPECT_TRUE(listen_loopback(ep.port).valid());  // the port is free
  EXPECT_EQ(backend_->spawn(spec_for("w2", app)).port, ep.port);

  backend_->stop("w", 1000);      // idempotent
  backend_->stop("unknown", 10);  // ignored
  EXPECT_EQ(backend_->logs("unknown"), nullptr);
  EXPECT_FALSE(backend_->status("unknown"));
}

TEST_F(ProcessBackendTest, StopAllStopsEveryWorker) {
  const auto app = write_app("hello", {{"app.R", kHelloApp}});
  backend_->spawn(spec_for("a", app));
  backend_->spawn(spec_for("b", app));
  ASSERT_TRUE(wait_healthy("a"));
  ASSERT_TRUE(wait_healthy("b"));
  const int a_pid = backend_->status("a")->pid;
  backend_->stop_all(5000);
  EXPECT_TRUE(backend_->list_managed().empty()) << "stop_all empties the table";
  EXPECT_NE(::kill(a_pid, 0), 0) << "bwrap of worker a still runs";
}

// The backend keeps an exited worker (and its log) only until its owner,
// told through on_exit, calls stop(): no retention of its own.
TEST_F(ProcessBackendTest, AnExitReportsOnceAndTheWorkerStaysUntilStopped) {
  const auto broken = write_app("broken", {{"app.R", "stop('boom')\n"}});
  auto spec = spec_for("gone", broken);
  spec.log = std::make_shared<LineLog>();
  std::mutex mu;
  std::condition_variable cv;
  std::vector<int> exits;
  spec.on_exit = [&](int code) {
    std::lock_guard lock(mu);
    exits.push_back(code);
    cv.notify_all();
  };
  backend_->spawn(spec);
  EXPECT_EQ(backend_->logs("gone"), spec.log) << "the caller's log receives the output";
  {
    std::unique_lock lock(mu);
    ASSERT_TRUE(cv.wait_for(lock, std::chrono::seconds(60), [&] { return !exits.empty(); }));
  }
  ASSERT_TRUE(backend_->status("gone"));
  EXPECT_FALSE(backend_->status("gone")->running);
  EXPECT_NE(backend_->status("gone")->exit_code, 0);
  backend_->stop("gone");
  EXPECT_FALSE(backend_->status("gone"));
  EXPECT_TRUE(backend_->list_managed().empty());
  EXPECT_EQ(backend_->logs("gone"), nullptr);
  EXPECT_THAT(test_support::log_text(*spec.log), HasSubstr("boom"));  // the caller keeps it
  std::lock_guard lock(mu);
  EXPECT_EQ(exits.size(), 1u);
}

TEST_F(ProcessBackendTest, SpawnFailuresLeakNoPort) {
  auto spec = spec_for("missing", dir_ / "no-such-bundle");
  EXPECT_THROW(backend_->spawn(spec), std::runtime_error);
  spec.worker_id = "";
  EXPECT_THROW(backend_->spawn(spec), std::runtime_error);
  auto bad_env = spec_for("bad-env", write_app("hello", {{"app.R", kHelloApp}}));
  bad_env.env = {{"A=B", "x"}};
  EXPECT_ANY_THROW(backend_->spawn(bad_env));
  // All ten ports are still available.
  const auto app = write_app("hello", {{"app.R", kHelloApp}});
  for (int i = 0; i < 10; ++i)
    EXPECT_EQ(backend_->spawn(spec_for("p" + std::to_string(i), app)).port, kFirstPort + i);
  EXPECT_THROW(backend_->spawn(spec_for("p10", app)), std::runtime_error);
}

TEST(ProcessBackendOptions, RejectsMissingBinariesAndBadRanges) {
  ProcessBackendOptions o;
  o.bwrap_path = "/nonexistent/bwrap";
  EXPECT_THROW(make_process_backend(o), std::invalid_argument);
  o = {};
  o.r_path = "/nonexistent/R";
  EXPECT_THROW(make_process_backend(o), std::invalid_argument);
  o = {};
  o.port_range_start = 11000;
  o.port_range_end = 10000;
  EXPECT_THROW(make_process_backend(o), std::invalid_argument);
  o = {};
  o.bundle_worker_path = "/proc/app";
  EXPECT_THROW(make_process_backend(o), std::invalid_argument);
}

TEST(HttpProbe, FalseWhenNothingListensTrueForAnHttpAnswer) {
  EXPECT_FALSE(http_responds(Endpoint::tcp("127.0.0.1", kFirstPort + 50), milliseconds(300)));
  UniqueFd listener = listen_loopback(kFirstPort + 51);
  ASSERT_TRUE(listener.valid());
  std::thread server([&] {
    const int c = ::accept(listener.get(), nullptr, nullptr);
    char buf[512];
    [[maybe_unused]] auto n = ::recv(c, buf, sizeof buf, 0);
    const char reply[] = "HTTP/1.1 503 Service Unavailable\r\nContent-Length: 0\r\n\r\n";
    [[maybe_unused]] auto m = ::send(c, reply, sizeof reply - 1, MSG_NOSIGNAL);
    ::close(c);
  });
  EXPECT_TRUE(http_responds(Endpoint::tcp("127.0.0.1", kFirstPort + 51), milliseconds(1000)));
  server.join();
  // A listener that never answers times out.
  const auto start = std::chrono::steady_clock::now();
  EXPECT_FALSE(http_responds(Endpoint::tcp("127.0.0.1", kFirstPort + 51), milliseconds(300)));
  EXPECT_LT(std::chrono::steady_clock::now() - start, milliseconds(1000));
}

TEST(HttpProbe, SpeaksToAUnixSocketEndpoint) {
  const std::string path =
      (fs::temp_directory_path() / ("by-probe-" + std::to_string(::getpid()) + ".sock")).string();
  fs::remove(path);
  EXPECT_FALSE(http_responds(Endpoint::unix_socket(path), milliseconds(300)));
  UniqueFd listener(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  std::strncpy(addr.sun_path, path.c_str(), sizeof addr.sun_path - 1);
  ASSERT_EQ(::bind(listener.get(), reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
  ASSERT_EQ(::listen(listener.get(), 1), 0);
  std::string request;
  std::thread server([&] {
    const int c = ::accept(listener.get(), nullptr, nullptr);
    char buf[512];
    const auto n = ::recv(c, buf, sizeof buf, 0);
    if (n > 0) request.assign(buf, static_cast<std::size_t>(n));
    const char reply[] = "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n";
    [[maybe_unused]] auto m = ::send(c, reply, sizeof reply - 1, MSG_NOSIGNAL);
    ::close(c);
  });
  EXPECT_TRUE(http_responds(Endpoint::unix_socket(path), milliseconds(1000)));
  server.join();
  EXPECT_THAT(request, HasSubstr("GET / HTTP/1.1\r\n"));
  fs::remove(path);
}

}  // namespace
}  // namespace blockyard::backend::process
