// spawn_bench: what the process backend's sandbox costs at start-up.
//
//   spawn_bench argv DIR [--] CMD...    print the bwrap argv the backend builds
//                                       for CMD with DIR/bundle at /app and
//                                       DIR/out at /out (one argument per line)
//   spawn_bench spawn [--runs N] [--] CMD...
//                                       median wall time of CMD run to exit:
//                                       bare fork+exec, bwrap with the backend's
//                                       argv, and ProcessBackend::build() (own
//                                       UID as root, cgroup, seccomp if given)
//   spawn_bench ttfb [--runs N] APP_DIR median time from start to the first
//                                       HTTP 200 of a Shiny app: bare Rscript
//                                       vs ProcessBackend::spawn()
//
// Options (before the mode's arguments): --seccomp FILE (compiled profile).
// Prints one "label median_ms" line per variant, then ratios to bare.
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <spdlog/spdlog.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <functional>
#include <iostream>
#include <string>
#include <thread>
#include <vector>

#include "backend/process/bwrap_args.h"
#include "backend/process/process_backend.h"
#include "backend/process/shiny_command.h"
#include "backend/process/worker_env.h"
#include "backend/process/worker_process.h"
#include "core/unique_fd.h"

namespace {

namespace fs = std::filesystem;
namespace bp = blockyard::backend::process;
using Clock = std::chrono::steady_clock;

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v.empty()      ? 0
         : v.size() % 2 ? v[v.size() / 2]
                        : (v[v.size() / 2 - 1] + v[v.size() / 2]) / 2;
}

double ms_since(Clock::time_point t) {
  return std::chrono::duration<double, std::milli>(Clock::now() - t).count();
}

std::vector<double> repeat(int runs, const std::function<void()>& once) {
  once();  // warm-up (page cache, first cgroup creation)
  std::vector<double> out;
  for (int i = 0; i < runs; ++i) {
    const auto t = Clock::now();
    once();
    out.push_back(ms_since(t));
  }
  return out;
}

// fork + execv + waitpid, output to /dev/null; returns the exit status.
int run_bare(const std::vector<std::string>& argv, const std::vector<std::string>& env) {
  std::vector<char*> a, e;
  for (const auto& s : argv) a.push_back(const_cast<char*>(s.c_str()));
  for (const auto& s : env) e.push_back(const_cast<char*>(s.c_str()));
  a.push_back(nullptr);
  e.push_back(nullptr);
  const pid_t pid = ::fork();
  if (pid == 0) {
    const int null = ::open("/dev/null", O_WRONLY);
    ::dup2(null, 1);
    ::dup2(null, 2);
    ::execve(a[0], a.data(), e.data());
    ::_exit(127);
  }
  int status = 0;
  ::waitpid(pid, &status, 0);
  return status;
}

std::vector<std::string> env_strings(const bp::EnvList& env) {
  std::vector<std::string> out;
  for (const auto& [k, v] : env) out.push_back(k + "=" + v);
  return out;
}

fs::path resolve(const std::string& program) {
  if (program.find('/') != std::string::npos) return program;
  for (const char* dir : {"/usr/bin", "/bin", "/usr/local/bin"})
    if (fs::exists(fs::path(dir) / program)) return fs::path(dir) / program;
  return program;
}

// The argv the backend builds for a build job running `command` (as the server UID).
std::vector<std::string> sandbox_argv(const std::vector<std::string>& command,
                                      const fs::path& dir) {
  bp::SandboxSpec spec;
  spec.bundle_host_path = dir / "bundle";
  spec.bundle_mount = "/app";
  spec.extra_binds = {{dir / "out", "/out", false}};
  spec.env = bp::build_environment({});
  spec.command = command;
  return bp::build_bwrap_argv(spec);
}

bool http_ok(int port) {
  blockyard::UniqueFd fd(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(port));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(fd.get(), reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) return false;
  const char req[] = "GET / HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n";
  if (::send(fd.get(), req, sizeof req - 1, MSG_NOSIGNAL) < 0) return false;
  char buf[64] = {};
  const ssize_t n = ::recv(fd.get(), buf, sizeof buf - 1, 0);
  return n > 12 && std::strncmp(buf + 9, "200", 3) == 0;
}

void wait_http(int port) {
  const auto deadline = Clock::now() + std::chrono::seconds(60);
  while (!http_ok(port)) {
    if (Clock::now() > deadline) throw std::runtime_error("no HTTP 200 within 60 s");
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
}

int free_port() {
  blockyard::UniqueFd fd(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ::bind(fd.get(), reinterpret_cast<sockaddr*>(&addr), sizeof addr);
  socklen_t len = sizeof addr;
  ::getsockname(fd.get(), reinterpret_cast<sockaddr*>(&addr), &len);
  return ntohs(addr.sin_port);
}

void print_results(const std::vector<std::pair<std::string, double>>& rows) {
  for (const auto& [label, ms] : rows) std::printf("%-28s %10.2f ms\n", label.c_str(), ms);
  for (std::size_t i = 1; i < rows.size(); ++i)
    std::printf("ratio %s / %s: %.2fx\n", rows[i].first.c_str(), rows[0].first.c_str(),
                rows[i].second / rows[0].second);
}

bp::ProcessBackendOptions backend_options(const fs::path& dir, const std::string& seccomp) {
  bp::ProcessBackendOptions o;
  o.state_dir = dir / ".workers";
  o.port_range_start = 24600;
  o.port_range_end = 24699;
  o.worker_uid_range_start = 62600;
  o.worker_uid_range_end = 62699;
  o.seccomp_profile = seccomp;
  return o;
}

int spawn_mode(int runs, std::vector<std::string> command, const fs::path& dir,
               const std::string& seccomp) {
  command[0] = resolve(command[0]).string();
  const auto env = env_strings(bp::build_environment({}));
  const auto bare = repeat(runs, [&] { run_bare(command, env); });
  const auto bwrap_argv = sandbox_argv(command, dir);
  const auto bwrap = repeat(runs, [&] { run_bare(bwrap_argv, {}); });
  auto backend = bp::make_process_backend(backend_options(dir, seccomp));
  blockyard::backend::BuildSpec spec;
  spec.build_id = "bench";
  spec.command = command;
  spec.bundle_path = dir / "bundle";
  spec.output_path = dir / "out";
  spec.timeout = std::chrono::seconds(120);
  int failures = 0;
  const auto full = repeat(runs, [&] {
    if (!backend->build(spec).success()) ++failures;
  });
  if (failures > 0) std::fprintf(stderr, "spawn_bench: %d backend runs failed\n", failures);
  print_results({{"bare fork+exec", median(bare)},
                 {"bwrap (backend argv)", median(bwrap)},
                 {"backend build()", median(full)}});
  return failures > 0 ? 1 : 0;
}

int ttfb_mode(int runs, const fs::path& app, const fs::path& dir, const std::string& seccomp) {
  const fs::path rscript = "/usr/bin/Rscript";
  std::vector<double> bare;
  for (int i = 0; i <= runs; ++i) {  // run 0 warms the page cache
    const int port = free_port();
    const auto command = bp::shiny_command(rscript, fs::absolute(app), port);
    std::vector<char*> a;
    for (const auto& s : command) a.push_back(const_cast<char*>(s.c_str()));
    a.push_back(nullptr);
    const auto t = Clock::now();
    const pid_t pid = ::fork();
    if (pid == 0) {
      const int null = ::open("/dev/null", O_WRONLY);
      ::dup2(null, 1);
      ::dup2(null, 2);
      ::setenv("HOME", "/tmp", 1);
      ::execv(a[0], a.data());
      ::_exit(127);
    }
    wait_http(port);
    if (i > 0) bare.push_back(ms_since(t));
    ::kill(pid, SIGKILL);
    ::waitpid(pid, nullptr, 0);
  }
  auto backend = bp::make_process_backend(backend_options(dir, seccomp));
  std::vector<double> sandboxed;
  for (int i = 0; i <= runs; ++i) {
    blockyard::backend::WorkerSpec spec;
    spec.worker_id = "ttfb-" + std::to_string(i);
    spec.bundle_path = app;
    const auto t = Clock::now();
    const auto endpoint = backend->spawn(spec);
    wait_http(endpoint.port);
    if (i > 0) sandboxed.push_back(ms_since(t));
    backend->stop(spec.worker_id, 1000);
  }
  print_results({{"bare Rscript runApp", median(bare)}, {"backend spawn()", median(sandboxed)}});
  return 0;
}

int usage() {
  std::fprintf(stderr,
               "usage: spawn_bench [--seccomp FILE] argv|spawn|ttfb [--runs N] [--] ARGS...\n");
  return 2;
}

}  // namespace

int main(int argc, char** argv) {
  spdlog::set_level(spdlog::level::warn);  // keep the figures readable
  std::vector<std::string> args(argv + 1, argv + argc);
  std::string seccomp;
  if (args.size() >= 2 && args[0] == "--seccomp") {
    seccomp = args[1];
    args.erase(args.begin(), args.begin() + 2);
  }
  if (args.empty()) return usage();
  const std::string mode = args[0];
  args.erase(args.begin());
  int runs = 20;
  if (args.size() >= 2 && args[0] == "--runs") {
    runs = std::stoi(args[1]);
    args.erase(args.begin(), args.begin() + 2);
  }
  if (mode == "argv") {
    if (args.size() < 2) return usage();
    const fs::path dir = args[0];
    std::vector<std::string> command(args.begin() + (args[1] == "--" ? 2 : 1), args.end());
    if (command.empty()) return usage();
    command[0] = resolve(command[0]).string();
    for (const auto& a : sandbox_argv(command, dir)) std::cout << a << "\n";
    return 0;
  }
  if (!args.empty() && args[0] == "--") args.erase(args.begin());
  if (args.empty()) return usage();

  char pattern[] = "/tmp/spawn-bench-XXXXXX";
  if (::mkdtemp(pattern) == nullptr) return 1;
  const fs::path dir = pattern;
  fs::create_directories(dir / "bundle");
  fs::permissions(dir, fs::perms::owner_all | fs::perms::group_exec | fs::perms::others_exec,
                  fs::perm_options::replace);
  fs::create_directories(dir / "out");
  int rc = 0;
  try {
    if (mode == "spawn") {
      rc = spawn_mode(runs, args, dir, seccomp);
    } else if (mode == "ttfb") {
      rc = ttfb_mode(runs, args[0], dir, seccomp);
    } else {
      rc = usage();
    }
  } catch (const std::exception& e) {
    std::fprintf(stderr, "spawn_bench: %s\n", e.what());
    rc = 1;
  }
  std::error_code ec;
  fs::remove_all(dir, ec);
  return rc;
}
