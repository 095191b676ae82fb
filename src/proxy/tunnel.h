// Tunnel: after a WebSocket upgrade, relays bytes both ways between the client
// socket and the worker socket until either side closes. Bytes that were
// already buffered past the HTTP headers on either side are delivered first.
#pragma once

#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core/flat_buffer.hpp>

#include <array>
#include <functional>
#include <memory>

namespace blockyard::proxy {

class Tunnel : public std::enable_shared_from_this<Tunnel> {
 public:
  using tcp = boost::asio::ip::tcp;

  // `keep_alive` is held for the tunnel's lifetime (it owns `client`).
  // `on_close` runs once, when both directions have ended.
  Tunnel(tcp::socket& client, std::shared_ptr<void> keep_alive, tcp::socket upstream,
         std::function<void()> on_close);
  ~Tunnel();

  void start(boost::beast::flat_buffer& client_pending,
             boost::beast::flat_buffer& upstream_pending);

 private:
  struct Direction {
    tcp::socket* from;
    tcp::socket* to;
    std::array<char, 16384> buffer;
  };
  void write_pending(Direction& d, std::shared_ptr<std::string> pending);
  void read(Direction& d);
  void shut_down();

  tcp::socket& client_;
  std::shared_ptr<void> keep_alive_;
  tcp::socket upstream_;
  std::function<void()> on_close_;
  Direction to_upstream_;
  Direction to_client_;
};

}  // namespace blockyard::proxy
