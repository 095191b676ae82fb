#include "proxy/upstream.h"

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>

#include <boost/asio/ip/address.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/local/stream_protocol.hpp>

namespace blockyard::proxy {

namespace asio = boost::asio;

std::optional<UpstreamEndpoint> upstream_endpoint(const Endpoint& endpoint) {
  if (endpoint.is_unix())
    return UpstreamEndpoint(asio::local::stream_protocol::endpoint(endpoint.unix_path));
  if (endpoint.port <= 0 || endpoint.port > 65535) return std::nullopt;
  boost::system::error_code ec;
  const auto address = asio::ip::make_address(endpoint.host, ec);
  if (ec) return std::nullopt;
  return UpstreamEndpoint(
      asio::ip::tcp::endpoint(address, static_cast<unsigned short>(endpoint.port)));
}

namespace {

bool is_tcp(UpstreamSocket& socket) {
  boost::system::error_code ec;
  const auto local = socket.local_endpoint(ec);
  return !ec && (local.protocol().family() == AF_INET || local.protocol().family() == AF_INET6);
}

}  // namespace

void tune_upstream(UpstreamSocket& socket) {
  if (!is_tcp(socket)) return;
  const int on = 1;
  ::setsockopt(socket.native_handle(), IPPROTO_TCP, TCP_NODELAY, &on, sizeof on);
}

void ack_promptly(UpstreamSocket& socket) {
  // Not a TCP socket: the call fails with ENOPROTOOPT, which costs less than asking first.
  const int on = 1;
  ::setsockopt(socket.native_handle(), IPPROTO_TCP, TCP_QUICKACK, &on, sizeof on);
}

}  // namespace blockyard::proxy
