// cloud_metadata and redis_auth: probes made from blockyard itself.
#include <poll.h>
#include <sys/socket.h>

#include <algorithm>
#include <fstream>

#include "preflight/checks.h"
#include "preflight/registry.h"
#include "preflight/service_targets.h"

namespace blockyard::preflight {

namespace {

using namespace std::chrono_literals;

const char* const kMetadataRemedy =
    " A compromised worker could read the instance's IAM credentials. Block it for workers "
    "(`iptables -A OUTPUT -d 169.254.169.254 -j REJECT`), require IMDSv2 / Workload Identity, "
    "run without an instance role, or set [process] skip_metadata_check = true if this is not "
    "a cloud host.";

bool metadata_in_arp_table() {
  std::ifstream in("/proc/net/arp");
  std::string line;
  while (std::getline(in, line)) {
    if (line.starts_with(std::string(kMetadataHost) + " ")) return true;
  }
  return false;
}

// Reads one reply line with a deadline; empty on timeout or close.
std::string read_reply(int fd, std::chrono::milliseconds timeout) {
  std::string reply;
  auto deadline = std::chrono::steady_clock::now() + timeout;
  char buffer[256];
  while (reply.find("\r\n") == std::string::npos && reply.size() < 1024) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
                    deadline - std::chrono::steady_clock::now())
                    .count();
    if (left <= 0) break;
    pollfd pfd{fd, POLLIN, 0};
    if (::poll(&pfd, 1, static_cast<int>(left)) <= 0) continue;
    ssize_t n = ::recv(fd, buffer, sizeof buffer, 0);
    if (n <= 0) break;
    reply.append(buffer, n);
  }
  return reply.substr(0, reply.find("\r\n"));
}

}  // namespace

CheckResult check_cloud_metadata(const CheckContext& context) {
  const std::string name = "cloud_metadata";
  if (context.process().skip_metadata_check) {
    return result(name, kInfo, "cloud metadata check skipped by [process] skip_metadata_check");
  }
  std::string target = std::string(kMetadataHost) + ":" + std::to_string(kMetadataPort);
  if (!context.options.allow_metadata_probe) {
    if (metadata_in_arp_table()) {
      return result(name, kWarning,
                    target +
                        " was not probed, but it is in the ARP table, so a metadata "
                        "service is likely reachable from this host." +
                        kMetadataRemedy +
                        " Set BLOCKYARD_PREFLIGHT_ALLOW_METADATA_PROBE=1 to probe it.");
    }
    return result(name, kInfo,
                  target +
                      " not probed (set BLOCKYARD_PREFLIGHT_ALLOW_METADATA_PROBE=1 to "
                      "connect to it); it is not in the ARP table");
  }
  auto connect = tcp_connect(std::string(kMetadataHost), kMetadataPort, 2s);
  if (!connect.ok()) {
    return result(name, kOk, "cloud metadata endpoint " + target + " is not reachable");
  }
  return result(
      name, kError,
      "cloud metadata endpoint " + target + " is reachable from this host." + kMetadataRemedy);
}

CheckResult check_redis_auth(const CheckContext& context) {
  const std::string name = "redis_auth";
  const std::string category = "redis";
  if (!context.config.redis || context.config.redis->url.empty()) {
    return result(name, kOk, "Redis not configured", category);
  }
  const std::string& url = context.config.redis->url;
  std::string scheme = url.substr(0, std::min<std::size_t>(url.size(), 9));
  std::transform(scheme.begin(), scheme.end(), scheme.begin(), ::tolower);
  if (scheme.starts_with("rediss://")) {
    return result(name, kInfo,
                  "Redis uses TLS (rediss://); the unauthenticated-access probe is skipped",
                  category);
  }
  auto address = redis_address(url);
  if (!address) return result(name, kInfo, "cannot parse [redis] url; probe skipped", category);
  std::string where = address->host + ":" + std::to_string(address->port);
  auto connect = tcp_connect(address->host, address->port, 2s);
  if (!connect.ok()) {
    return result(name, kInfo,
                  "Redis at " + where + " not reachable from blockyard for the auth probe (" +
                      connect.error + ")",
                  category);
  }
  const std::string ping = "*1\r\n$4\r\nPING\r\n";
  if (::send(connect.socket.get(), ping.data(), ping.size(), MSG_NOSIGNAL) !=
      static_cast<ssize_t>(ping.size())) {
    return result(name, kInfo, "could not send PING to Redis at " + where, category);
  }
  std::string reply = read_reply(connect.socket.get(), 1s);
  if (reply.starts_with("+PONG")) {
    return result(name, kError,
                  "Redis at " + where +
                      " accepts unauthenticated connections; workers share the host network and "
                      "could reach it to read or change sessions and worker state. Configure "
                      "`requirepass` or ACLs in Redis and put the password in [redis] url "
                      "(redis://:PASSWORD@host:port), and block workers from it with a firewall "
                      "rule (see worker_egress).",
                  category);
  }
  if (reply.starts_with("-NOAUTH")) {
    return result(name, kOk, "Redis requires authentication", category);
  }
  return result(name, kInfo,
                "Redis responded with an unexpected reply to an unauthenticated PING: \"" +
                    reply.substr(0, 80) + "\"",
                category);
}

}  // namespace blockyard::preflight
