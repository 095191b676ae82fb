// Tunnel: after a WebSocket upgrade, relays bytes both ways between the client
// socket and the worker socket until either side closes. Bytes that were
// already buffered past the HTTP headers on either side are delivered first.
//
// Memory: an idle tunnel holds no buffer. Each direction waits for
// readability, reads into a per-thread scratch buffer, and writes straight
// through; only bytes the destination cannot take at once are copied to the
// heap, and freed when written. (Thousands of mostly idle Shiny sockets are
// the common case; two fixed buffers each would dominate the proxy's RSS.)
//
// Threading: every handler runs on the client connection's strand, so the two
// directions never touch the sockets concurrently (also while shutting down).
#pragma once

#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core/flat_buffer.hpp>

#include <functional>
#include <memory>
#include <vector>

#include "proxy/upstream.h"

namespace blockyard::proxy {

class Tunnel : public std::enable_shared_from_this<Tunnel> {
 public:
  using tcp = boost::asio::ip::tcp;

  // `keep_alive` is held for the tunnel's lifetime (it owns `client`, whose
  // executor must be a strand). `on_close` runs once, when both directions
  // have ended.
  Tunnel(tcp::socket& client, std::shared_ptr<void> keep_alive, UpstreamSocket upstream,
         std::function<void()> on_close);
  ~Tunnel();

  void start(boost::beast::flat_buffer& client_pending,
             boost::beast::flat_buffer& upstream_pending);

 private:
  // One direction: from the client to the worker, or back. The two ends are
  // different socket types (the worker's may be a Unix socket).
  template <class From, class To>
  struct Direction {
    From* from;
    To* to;
    std::vector<char> unsent;  // what `to` could not take yet; empty while idle
  };
  template <class D>
  void wait_readable(D& d);
  template <class D>
  void pass_on(D& d);
  template <class D>
  void write_unsent(D& d);
  void shut_down();
  template <class Handler>
  auto on_strand(Handler&& handler);

  tcp::socket& client_;
  std::shared_ptr<void> keep_alive_;
  UpstreamSocket upstream_;
  std::function<void()> on_close_;
  Direction<tcp::socket, UpstreamSocket> to_upstream_;
  Direction<UpstreamSocket, tcp::socket> to_client_;
  bool closed_ = false;
};

}  // namespace blockyard::proxy
