// Resumable Shiny WebSockets (docs/websocket-resume.md). Proxy-private: it
// includes Boost.Beast's HTTP types.
//
// A resilient session terminates the WebSocket on both sides: one Beast
// WebSocket to the worker for the session's whole life, and one to the
// browser at a time. Messages are numbered in each direction and kept until
// acknowledged (ReplayBuffer). When the browser's connection drops without a
// close frame, the worker's socket is held for `hold_ttl`; a browser that
// comes back with the session's token within that time is re-attached to it,
// sent what it missed, and sends again what the proxy had not received, so no
// message is lost or duplicated and Shiny sees no second init. A close frame
// from the browser, the worker closing, the TTL passing, or the kept messages
// outgrowing their bound end the session: the worker's socket is closed.
//
// Threading: each session runs on its own strand of `io`; the functions here
// may be called from any thread and take ownership of the client socket.
#pragma once

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/http/empty_body.hpp>
#include <boost/beast/http/fields.hpp>
#include <boost/beast/http/message.hpp>

#include <chrono>
#include <cstdint>
#include <functional>
#include <string>

#include "core/endpoint.h"
#include "proxy/resume_registry.h"

namespace blockyard::proxy {

struct ResilientOptions {
  std::chrono::milliseconds hold_ttl{60'000};      // proxy.ws_cache_ttl
  std::size_t max_unacked_bytes = 8u << 20;        // per direction
  std::uint64_t max_message_bytes = 128ull << 20;  // one WebSocket message
  std::chrono::seconds client_idle_timeout{30};    // dead-peer detection (pings)
};

// A browser's WebSocket upgrade, handed over by the data plane.
struct ClientUpgrade {
  boost::asio::ip::tcp::socket socket;  // the browser connection (any executor)
  // The upgrade request, identity and forwarding headers already set by the
  // proxy; its end-to-end headers also go to the worker's handshake.
  boost::beast::http::request<boost::beast::http::empty_body> request;
  boost::beast::http::fields response_fields;  // extra headers for the 101 response
};

// Where the worker's WebSocket is.
struct BackendTarget {
  Endpoint endpoint;   // TCP or a Unix socket
  std::string target;  // path and query on the worker
};

// Who may resume the session, and the worker that serves it.
struct SessionBinding {
  std::string route_session;  // blockyard_route cookie value
  std::string app_id;
  std::string worker_id;  // its tokens go when this worker ends
};

// Opens the worker's WebSocket, then accepts the browser's and runs the
// session until it ends. If the worker cannot be reached the browser gets an
// HTTP 502 instead. `on_open` runs once the worker accepted the WebSocket;
// `on_end` runs once, when the session is over.
void start_resilient_session(boost::asio::io_context& io, ResumeRegistry& registry,
                             const ResilientOptions& options, SessionBinding binding,
                             BackendTarget backend, ClientUpgrade client,
                             std::function<void()> on_end, std::function<void()> on_open = {});

// Re-attaches the browser to the held session named by `token` after it has
// received `last` messages. A token that is unknown, expired, or bound to
// another session or app is refused: the browser's WebSocket is accepted,
// told {"t":"ended"} and closed with code 4410.
void resume_resilient_session(boost::asio::io_context& io, ResumeRegistry& registry,
                              const std::string& token, std::uint64_t last,
                              const SessionBinding& binding, ClientUpgrade client);

}  // namespace blockyard::proxy
