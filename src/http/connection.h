// Connection: one accepted client TCP connection and its HTTP/1.1 request
// loop. Internal to http/ and proxy/ (includes Beast).
//
// Lifetime: a Connection is kept alive by the shared_ptr captured in its
// pending asynchronous operations (Boost.Beast example style); all of its
// operations run on the socket's executor (a strand when the server runs
// more than one I/O thread, ServerOptions::io_threads).
#pragma once

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/strand.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "http/deadline.h"
#include "http/message.h"

namespace blockyard::http {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
using tcp = asio::ip::tcp;

using HeaderParser = bhttp::request_parser<bhttp::empty_body>;

class Connection;
class RateLimitPolicy;
struct ServerShared;

// Every X-Forwarded-For line of `header`, joined as one list.
std::string forwarded_for(const bhttp::request_header<>& header);

// The data plane (/app/...). It takes over a request whose header has been
// read, and must eventually call conn->finish_request(keep_alive), or
// conn->close(), or keep the socket for itself (WebSocket tunnel) and call
// conn->detach().
class DataPlaneHandler {
 public:
  virtual ~DataPlaneHandler() = default;
  virtual void handle(std::shared_ptr<Connection> conn, HeaderParser& parser) = 0;
};

class Connection : public std::enable_shared_from_this<Connection> {
 public:
  Connection(tcp::socket socket, std::shared_ptr<ServerShared> shared);
  ~Connection();
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;

  void start();

  tcp::socket& socket() { return socket_; }
  beast::flat_buffer& buffer() { return buffer_; }
  // Ends the connection when it passes (its socket closes; pending operations
  // end as aborted). Set for every header, body and proxied exchange.
  Deadline& deadline() { return deadline_; }
  // What the current request does when the deadline passes, instead of the
  // socket being closed (runs once; dropped when the request ends).
  void on_deadline(std::function<void()> action) { deadline_action_ = std::move(action); }
  const std::string& peer_ip() const { return peer_ip_; }
  // The server's rate limits; null when there are none.
  RateLimitPolicy* rate_limits() const;

  // Common response headers (security headers, version) added to `fields`.
  void add_common_headers(bhttp::fields& fields) const;
  // The same for a header written by hand: removes any copies from `fields`
  // (a worker's own) and returns ours as wire lines ("Name: value\r\n").
  const std::string& common_header_lines(bhttp::fields& fields) const;

  // The current request is done; read the next one or close.
  void finish_request(bool keep_alive);
  void close();
  // The data plane took the socket over (tunnel); the request is no longer in flight.
  void detach();

  // Writes a complete in-memory response, then finishes the request.
  void send(Response response, bool keep_alive);
  // Answers before the request's body was read, then closes (lingering).
  void refuse(Response response);
  // The next close() reads and drops what the client still sends (for a few
  // seconds) before closing, so an early answer is not lost to a reset.
  void linger_on_close();

 private:
  void read_header();
  void read_header_bytes();
  void on_header(beast::error_code ec);
  void read_api_body();
  void read_upload_body(Request request, std::uint64_t limit, bool keep_alive);
  void read_json_body(Request request, std::uint64_t limit, bool keep_alive);
  void discard_until_closed();
  void dispatch_api(Request request, bool keep_alive);
  void write_streamed(std::shared_ptr<Response> response, bool keep_alive);
  void pump_chunks(std::shared_ptr<Response> response, bool keep_alive);
  void end_in_flight();
  void on_deadline_passed();

  tcp::socket socket_;
  Deadline deadline_;
  std::function<void()> deadline_action_;
  beast::flat_buffer buffer_;
  std::optional<HeaderParser> parser_;
  std::shared_ptr<ServerShared> shared_;
  std::string peer_ip_;
  bool in_flight_ = false;
  bool linger_ = false;  // see linger_on_close()
};

}  // namespace blockyard::http
