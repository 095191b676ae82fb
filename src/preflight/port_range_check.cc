// port_range: size of [process] port_range_start..end and how many ports in it
// are free right now (bound on 127.0.0.1 as a worker would).
#include <netinet/in.h>
#include <sys/socket.h>

#include "preflight/checks.h"
#include "preflight/registry.h"
#include "core/unique_fd.h"

namespace blockyard::preflight {

namespace {
bool port_free(int port) {
  UniqueFd fd(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
  if (!fd.valid()) return false;
  int one = 1;
  ::setsockopt(fd.get(), SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(port));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  return ::bind(fd.get(), reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0;
}
}  // namespace

CheckResult check_port_range(const CheckContext& context) {
  const std::string name = "port_range";
  ProcessConfig pc = context.process();
  std::string range = std::to_string(pc.port_range_start) + "-" + std::to_string(pc.port_range_end);
  if (pc.port_range_start < 1 || pc.port_range_end > 65535 ||
      pc.port_range_end < pc.port_range_start) {
    return result(name, kError,
                  "port range " + range +
                      " is empty or invalid; set [process] port_range_start/port_range_end");
  }
  int size = pc.port_range_end - pc.port_range_start + 1;
  int free = 0;
  for (int port = pc.port_range_start; port <= pc.port_range_end; ++port) free += port_free(port);
  std::string counts = "port range " + range + ": " + std::to_string(size) + " ports, " +
                       std::to_string(free) + " free now";
  if (free == 0) {
    return result(name, kError,
                  counts +
                      "; every port is in use, so no worker can start. Choose a free range "
                      "with [process] port_range_start/port_range_end");
  }
  if (size < 10 || free < 10) {
    return result(name, kWarning,
                  counts +
                      "; few workers can run at once. Consider widening [process] "
                      "port_range_start/port_range_end");
  }
  return result(name, kOk, counts);
}

}  // namespace blockyard::preflight
