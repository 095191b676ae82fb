#include "preflight/tcp_probe.h"

#include <fcntl.h>
#include <netdb.h>
#include <poll.h>
#include <sys/socket.h>

#include <cerrno>
#include <charconv>
#include <cstring>
#include <memory>

namespace blockyard::preflight {

std::optional<HostPort> parse_host_port(std::string_view text) {
  HostPort out;
  std::string_view port_text;
  if (text.starts_with("[")) {
    auto close = text.find("]:");
    if (close == std::string_view::npos) return std::nullopt;
    out.host = std::string(text.substr(1, close - 1));
    port_text = text.substr(close + 2);
  } else {
    auto colon = text.rfind(':');
    if (colon == std::string_view::npos || text.find(':') != colon) return std::nullopt;
    out.host = std::string(text.substr(0, colon));
    port_text = text.substr(colon + 1);
  }
  auto [end, ec] = std::from_chars(port_text.data(), port_text.data() + port_text.size(), out.port);
  if (out.host.empty() || ec != std::errc() || end != port_text.data() + port_text.size() ||
      out.port < 1 || out.port > 65535) {
    return std::nullopt;
  }
  return out;
}

namespace {

// One non-blocking connect bounded by `deadline`.
ConnectResult connect_one(const addrinfo& ai, std::chrono::steady_clock::time_point deadline) {
  using namespace std::chrono;
  ConnectResult r;
  UniqueFd fd(
      ::socket(ai.ai_family, ai.ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC, ai.ai_protocol));
  if (!fd.valid()) {
    r.error = std::strerror(errno);
    return r;
  }
  if (::connect(fd.get(), ai.ai_addr, ai.ai_addrlen) != 0) {
    if (errno != EINPROGRESS) {
      r.error = std::strerror(errno);
      return r;
    }
    while (true) {
      auto left = duration_cast<milliseconds>(deadline - steady_clock::now()).count();
      if (left <= 0) {
        r.error = "timed out";
        return r;
      }
      pollfd pfd{fd.get(), POLLOUT, 0};
      int ready = ::poll(&pfd, 1, static_cast<int>(left));
      if (ready < 0 && errno == EINTR) continue;
      if (ready > 0) break;
    }
    int err = 0;
    socklen_t len = sizeof err;
    ::getsockopt(fd.get(), SOL_SOCKET, SO_ERROR, &err, &len);
    if (err != 0) {
      r.error = std::strerror(err);
      return r;
    }
  }
  int flags = ::fcntl(fd.get(), F_GETFL);
  ::fcntl(fd.get(), F_SETFL, flags & ~O_NONBLOCK);
  r.socket = std::move(fd);
  return r;
}

}  // namespace

ConnectResult tcp_connect(const std::string& host, int port, std::chrono::milliseconds timeout) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* list = nullptr;
  std::string service = std::to_string(port);
  if (int rc = ::getaddrinfo(host.c_str(), service.c_str(), &hints, &list); rc != 0) {
    ConnectResult r;
    r.error = std::string("cannot resolve ") + host + ": " + ::gai_strerror(rc);
    return r;
  }
  std::unique_ptr<addrinfo, decltype(&::freeaddrinfo)> owner(list, &::freeaddrinfo);
  ConnectResult last;
  last.error = "no address";
  for (addrinfo* ai = list; ai; ai = ai->ai_next) {
    last = connect_one(*ai, deadline);
    if (last.ok() || std::chrono::steady_clock::now() >= deadline) break;
  }
  return last;
}

}  // namespace blockyard::preflight
