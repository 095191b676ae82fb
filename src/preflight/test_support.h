// Test-only helpers: free loopback ports, a listening socket, a real
// redis-server child, and check contexts built from a Config.
#pragma once

#include <netinet/in.h>
#include <sys/socket.h>

#include <chrono>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <thread>

#include "preflight/check_context.h"
#include "preflight/subprocess.h"
#include "preflight/tcp_probe.h"
#include "core/unique_fd.h"

namespace blockyard::preflight::testing {

// A socket listening on 127.0.0.1 (kernel-chosen port) until destroyed.
class LoopbackListener {
 public:
  LoopbackListener() : fd_(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0)) {
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof addr;
    if (::bind(fd_.get(), reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 ||
        ::listen(fd_.get(), 16) != 0 ||
        ::getsockname(fd_.get(), reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
      throw std::runtime_error("listener setup failed");
    }
    port_ = ntohs(addr.sin_port);
  }
  int port() const { return port_; }

 private:
  UniqueFd fd_;
  int port_ = 0;
};

// A loopback port nobody listens on (bound briefly, then released).
inline int closed_port() {
  return LoopbackListener().port();
}

// redis-server on a free loopback port, without persistence; killed on
// destruction. Throws if redis-server is missing or does not come up.
class RedisServer {
 public:
  explicit RedisServer(const std::string& password = "") : port_(closed_port()) {
    std::vector<std::string> argv{"/usr/bin/redis-server",
                                  "--port",
                                  std::to_string(port_),
                                  "--bind",
                                  "127.0.0.1",
                                  "--save",
                                  "",
                                  "--appendonly",
                                  "no"};
    if (!password.empty()) argv.insert(argv.end(), {"--requirepass", password});
    child_.emplace(ChildProcess::spawn({.argv = argv, .capture_output = false}));
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    while (!tcp_connect("127.0.0.1", port_, std::chrono::milliseconds(200)).ok()) {
      if (std::chrono::steady_clock::now() > deadline) throw std::runtime_error("redis down");
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
  }
  int port() const { return port_; }
  std::string url(const std::string& password = "") const {
    return "redis://" + (password.empty() ? "" : ":" + password + "@") +
           "127.0.0.1:" + std::to_string(port_);
  }

 private:
  int port_;
  std::optional<ChildProcess> child_;
};

inline CheckContext context_for(Config config, PreflightOptions options = {}) {
  if (!config.process) config.process = ProcessConfig{};
  return CheckContext{std::move(config), std::move(options)};
}

// The blockyard binary of this build tree (the probe runs it in a sandbox).
inline std::filesystem::path blockyard_binary() {
  return std::filesystem::path(BLOCKYARD_BINARY_DIR) / "bin" / "blockyard";
}

}  // namespace blockyard::preflight::testing
