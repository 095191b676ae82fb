#include "backend/process/http_probe.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>

#include <cerrno>
#include <cstring>
#include <string_view>

#include "core/unique_fd.h"

namespace blockyard::backend::process {

namespace {

using Clock = std::chrono::steady_clock;

int millis_left(Clock::time_point deadline) {
  const auto left =
      std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()).count();
  return left > 0 ? static_cast<int>(left) : 0;
}

bool wait_for(int fd, short events, Clock::time_point deadline) {
  for (;;) {
    pollfd p{fd, events, 0};
    const int n = ::poll(&p, 1, millis_left(deadline));
    if (n < 0 && errno == EINTR) continue;
    return n > 0;
  }
}

// The socket address of `endpoint`; false when it is not one we can connect to.
bool socket_address(const Endpoint& endpoint, sockaddr_storage& addr, socklen_t& len) {
  if (endpoint.is_unix()) {
    auto* un = reinterpret_cast<sockaddr_un*>(&addr);
    if (endpoint.unix_path.size() >= sizeof un->sun_path) return false;
    un->sun_family = AF_UNIX;
    std::memcpy(un->sun_path, endpoint.unix_path.c_str(), endpoint.unix_path.size() + 1);
    len = sizeof(sockaddr_un);
    return true;
  }
  if (endpoint.port <= 0 || endpoint.port > 65535) return false;
  const auto port = htons(static_cast<uint16_t>(endpoint.port));
  auto* v4 = reinterpret_cast<sockaddr_in*>(&addr);
  if (::inet_pton(AF_INET, endpoint.host.c_str(), &v4->sin_addr) == 1) {
    v4->sin_family = AF_INET;
    v4->sin_port = port;
    len = sizeof(sockaddr_in);
    return true;
  }
  auto* v6 = reinterpret_cast<sockaddr_in6*>(&addr);
  if (::inet_pton(AF_INET6, endpoint.host.c_str(), &v6->sin6_addr) == 1) {
    v6->sin6_family = AF_INET6;
    v6->sin6_port = port;
    len = sizeof(sockaddr_in6);
    return true;
  }
  return false;
}

}  // namespace

bool http_responds(const Endpoint& endpoint, std::chrono::milliseconds timeout) {
  const auto deadline = Clock::now() + timeout;
  sockaddr_storage addr{};
  socklen_t addr_len = 0;
  if (!socket_address(endpoint, addr, addr_len)) return false;
  UniqueFd fd(::socket(addr.ss_family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0));
  if (!fd.valid()) return false;
  if (::connect(fd.get(), reinterpret_cast<sockaddr*>(&addr), addr_len) != 0) {
    if (errno != EINPROGRESS || !wait_for(fd.get(), POLLOUT, deadline)) return false;
    int err = 0;
    socklen_t len = sizeof err;
    if (::getsockopt(fd.get(), SOL_SOCKET, SO_ERROR, &err, &len) != 0 || err != 0) return false;
  }
  const std::string host = endpoint.is_unix() ? "localhost" : endpoint.to_string();
  const std::string request = "GET / HTTP/1.1\r\nHost: " + host +
                              "\r\nUser-Agent: blockyard-health\r\nConnection: close\r\n\r\n";
  std::size_t sent = 0;
  while (sent < request.size()) {
    if (!wait_for(fd.get(), POLLOUT, deadline)) return false;
    const ssize_t n = ::send(fd.get(), request.data() + sent, request.size() - sent, MSG_NOSIGNAL);
    if (n < 0 && (errno == EAGAIN || errno == EINTR)) continue;
    if (n <= 0) return false;
    sent += static_cast<std::size_t>(n);
  }
  constexpr std::string_view prefix = "HTTP/";
  std::string reply;
  while (reply.size() < prefix.size()) {
    if (!wait_for(fd.get(), POLLIN, deadline)) return false;
    char buf[64];
    const ssize_t n = ::recv(fd.get(), buf, sizeof buf, 0);
    if (n < 0 && (errno == EAGAIN || errno == EINTR)) continue;
    if (n <= 0) return false;
    reply.append(buf, static_cast<std::size_t>(n));
  }
  return std::string_view(reply).substr(0, prefix.size()) == prefix;
}

}  // namespace blockyard::backend::process
