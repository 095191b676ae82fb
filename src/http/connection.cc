#include "http/connection.h"

#include <fcntl.h>
#include <spdlog/spdlog.h>
#include <unistd.h>

#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/write.hpp>

#include <utility>

#include "core/crypto.h"
#include "http/rate_limiter.h"
#include "http/server_shared.h"

namespace blockyard::http {

namespace {

constexpr auto kHeaderTimeout = std::chrono::seconds(30);
constexpr auto kBodyTimeout = std::chrono::minutes(10);
constexpr auto kLingerTime = std::chrono::seconds(5);
constexpr std::size_t kLingerChunk = 64 * 1024;
constexpr std::uint32_t kHeaderLimit = 16 * 1024;
// First byte of a TLS handshake record (a ClientHello); no HTTP method starts
// with it.
constexpr char kTlsHandshakeRecord = 0x16;

std::string_view to_sv(beast::string_view s) {
  return {s.data(), s.size()};
}

bool is_data_plane_path(std::string_view target) {
  return target == "/app" || target.starts_with("/app/") || target.starts_with("/app?");
}

// Offset just past the blank line ending the header ("\r\n\r\n", or a bare
// "\n\n" that the parser will then reject), if the buffer holds it.
std::optional<std::size_t> header_end(std::string_view data) {
  auto crlf = data.find("\r\n\r\n");
  auto lf = data.find("\n\n");
  std::optional<std::size_t> end;
  if (crlf != std::string_view::npos) end = crlf + 4;
  if (lf != std::string_view::npos && (!end || lf + 2 < *end)) end = lf + 2;
  return end;
}

// An obs-fold: a header line that starts with a space or tab.
bool has_folded_line(std::string_view header) {
  for (auto nl = header.find('\n'); nl != std::string_view::npos && nl + 1 < header.size();
       nl = header.find('\n', nl + 1)) {
    char next = header[nl + 1];
    if (next == ' ' || next == '\t') return true;
  }
  return false;
}

// Request shapes that proxies and servers disagree about (the classic
// request-smuggling vectors) are refused outright rather than interpreted.
std::optional<std::string> ambiguous_framing(const bhttp::request_header<>& header) {
  int content_lengths = 0;
  int transfer_encodings = 0;
  for (const auto& field : header) {
    auto name = to_sv(field.name_string());
    auto value = to_sv(field.value());
    if (value.find_first_of("\r\n") != std::string_view::npos) return "folded header line";
    if (iequals(name, "content-length")) ++content_lengths;
    if (iequals(name, "transfer-encoding")) {
      ++transfer_encodings;
      if (!iequals(value, "chunked")) return "unsupported Transfer-Encoding";
    }
  }
  if (content_lengths > 1) return "duplicate Content-Length";
  if (transfer_encodings > 1) return "duplicate Transfer-Encoding";
  if (content_lengths && transfer_encodings) return "both Content-Length and Transfer-Encoding";
  return std::nullopt;
}

// Converts Beast's parsed header into our Request (body filled separately).
Request to_request(const bhttp::request_header<>& header, const std::string& peer_ip,
                   const TrustedProxies& trusted) {
  Request r;
  r.method = std::string(header.method_string());
  r.target = std::string(header.target());
  auto q = r.target.find('?');
  r.path = url_decode(r.target.substr(0, q));
  if (q != std::string::npos) r.query = r.target.substr(q + 1);
  for (const auto& field : header) {
    r.headers.add(std::string(field.name_string()), std::string(field.value()));
  }
  r.peer_ip = peer_ip;
  r.client_ip = client_ip(peer_ip, forwarded_for(header), to_sv(header["X-Real-IP"]), trusted);
  return r;
}

void remove_quietly(const std::filesystem::path& path) {
  std::error_code ec;
  std::filesystem::remove(path, ec);
}

}  // namespace

std::string forwarded_for(const bhttp::request_header<>& header) {
  std::string joined;
  for (const auto& field : header) {
    if (!iequals(to_sv(field.name_string()), "x-forwarded-for")) continue;
    if (!joined.empty()) joined += ',';
    joined += to_sv(field.value());
  }
  return joined;
}

RateLimitPolicy* Connection::rate_limits() const {
  return shared_->options.rate_limits.get();
}

Connection::Connection(tcp::socket socket, std::shared_ptr<ServerShared> shared)
    : socket_(std::move(socket)),
      deadline_(socket_.get_executor(), [this] { on_deadline_passed(); }),
      shared_(std::move(shared)) {
  beast::error_code ec;
  auto ep = socket_.remote_endpoint(ec);
  if (!ec) peer_ip_ = ep.address().to_string();
  socket_.set_option(tcp::no_delay(true), ec);
}

Connection::~Connection() {
  end_in_flight();
}

void Connection::start() {
  asio::dispatch(socket_.get_executor(), [self = shared_from_this()] { self->read_header(); });
}

void Connection::read_header() {
  parser_.emplace();
  parser_->header_limit(kHeaderLimit);
  // Each route sets its own body limit once the body parser takes over; the
  // header parser would otherwise refuse any Content-Length over 1 MiB.
  parser_->body_limit(std::numeric_limits<std::uint64_t>::max());
  deadline_.expires_after(kHeaderTimeout);
  read_header_bytes();
}

// The header is collected and checked as raw bytes before Beast parses it:
// Beast silently unfolds obs-fold lines, which other servers read differently.
void Connection::read_header_bytes() {
  std::string_view data(static_cast<const char*>(buffer_.data().data()), buffer_.size());
  if (!data.empty() && data.front() == kTlsHandshakeRecord) {
    // A TLS client (an https:// URL) would otherwise wait for the header
    // timeout; a plain answer makes its handshake fail at once.
    in_flight_ = true;
    ++shared_->in_flight;
    send(Response::error(400, "bad_request",
                         "this server speaks plain HTTP, not TLS: use an http:// URL"),
         false);
    return;
  }
  if (auto end = header_end(data)) {
    std::string_view header = data.substr(0, *end);
    in_flight_ = true;
    ++shared_->in_flight;
    if (has_folded_line(header)) {
      send(Response::error(400, "bad_request", "malformed HTTP request: folded header line"),
           false);
      return;
    }
    beast::error_code ec;
    std::size_t used = parser_->put(asio::buffer(header.data(), header.size()), ec);
    buffer_.consume(used);
    if (!ec && !parser_->is_header_done()) ec = bhttp::error::partial_message;
    --shared_->in_flight;
    in_flight_ = false;
    return on_header(ec);
  }
  if (buffer_.size() >= kHeaderLimit) return on_header(bhttp::error::header_limit);
  socket_.async_read_some(
      buffer_.prepare(4096), [self = shared_from_this()](beast::error_code ec, std::size_t n) {
        if (ec)
          return self->on_header(ec == asio::error::eof && self->buffer_.size() == 0
                                     ? beast::error_code(bhttp::error::end_of_stream)
                                     : ec);
        self->buffer_.commit(n);
        self->read_header_bytes();
      });
}

void Connection::on_header(beast::error_code ec) {
  if (ec) {
    if (ec != bhttp::error::end_of_stream && ec != beast::error::timeout &&
        ec != asio::error::operation_aborted && ec != asio::error::connection_reset &&
        ec != asio::error::eof) {
      // Malformed requests get a 400 rather than a silent close.
      Response r = Response::error(400, "bad_request", "malformed HTTP request");
      in_flight_ = true;
      ++shared_->in_flight;
      send(std::move(r), false);
      return;
    }
    close();
    return;
  }
  in_flight_ = true;
  ++shared_->in_flight;
  if (auto problem = ambiguous_framing(parser_->get())) {
    send(Response::error(400, "bad_request", "malformed HTTP request: " + *problem), false);
    return;
  }
  // The data plane has no per-request limit (a new session is limited where
  // it starts one, RateLimitPolicy::admit_new_session).
  if (is_data_plane_path(to_sv(parser_->get().target())) && shared_->data_plane) {
    shared_->data_plane->handle(shared_from_this(), *parser_);
    return;
  }
  if (const auto& limits = shared_->options.rate_limits) {
    const auto& header = parser_->get();
    std::string_view target = to_sv(header.target());
    std::string path = url_decode(target.substr(0, target.find('?')));
    auto refusal = limits->admit(to_sv(header.method_string()), path, peer_ip_,
                                 forwarded_for(header), to_sv(header["X-Real-IP"]));
    if (refusal) {
      // An unread body would be taken for the next request: close instead.
      send(std::move(*refusal), header.keep_alive() && parser_->is_done());
      return;
    }
  }
  read_api_body();
}

namespace {

// "bundle is 125829120 bytes; storage.max_bundle_size is 104857600 bytes".
// `actual` is what the client declared (Content-Length), or, for a chunked
// body, nullopt: then only "more than the limit" is known.
Response body_too_large(bool upload, std::uint64_t limit, std::optional<std::uint64_t> actual) {
  const std::string what = upload ? "bundle" : "request body";
  const std::string limit_name = upload ? "storage.max_bundle_size" : "the limit for API requests";
  const std::string size = actual ? "is " + std::to_string(*actual) + " bytes"
                                  : "is larger than " + std::to_string(limit) + " bytes";
  return Response::error(413, "payload_too_large",
                         what + " " + size + "; " + limit_name + " is " + std::to_string(limit) +
                             " bytes");
}

}  // namespace

void Connection::read_api_body() {
  auto request = to_request(parser_->get(), peer_ip_, shared_->trusted);
  const bool keep_alive = parser_->get().keep_alive();
  const bool upload = is_upload_route(request.method, request.path);
  const std::uint64_t limit =
      upload ? shared_->options.upload_body_limit : shared_->options.api_body_limit;
  // Beast checks a body limit against Content-Length only while it parses
  // the header, so a declared size is checked here, before any body byte is
  // read; a chunked body is cut off by the body parser's limit as it streams.
  if (auto declared = parser_->content_length(); declared && *declared > limit) {
    return refuse(body_too_large(upload, limit, *declared));
  }
  auto read_body = [self = shared_from_this(), upload, limit, keep_alive,
                    request = std::move(request)]() mutable {
    self->deadline_.expires_after(kBodyTimeout);
    if (upload) return self->read_upload_body(std::move(request), limit, keep_alive);
    self->read_json_body(std::move(request), limit, keep_alive);
  };
  const bool wants_continue = iequals(to_sv(parser_->get()[bhttp::field::expect]), "100-continue");
  if (!wants_continue || parser_->is_done()) return read_body();
  // The client waits for this before it sends a (large) body.
  static constexpr std::string_view kContinue = "HTTP/1.1 100 Continue\r\n\r\n";
  deadline_.expires_after(kHeaderTimeout);
  asio::async_write(socket_, asio::buffer(kContinue.data(), kContinue.size()),
                    [self = shared_from_this(), read_body = std::move(read_body)](
                        beast::error_code ec, std::size_t) mutable {
                      if (ec) return self->close();
                      read_body();
                    });
}

void Connection::read_upload_body(Request request, std::uint64_t limit, bool keep_alive) {
  std::filesystem::create_directories(shared_->options.upload_dir);
  auto spool = shared_->options.upload_dir / ("upload-" + uuid_v4() + ".tar.gz");
  auto file_parser = std::make_shared<bhttp::request_parser<bhttp::file_body>>(std::move(*parser_));
  file_parser->body_limit(limit);
  beast::error_code ec;
  file_parser->get().body().open(spool.c_str(), beast::file_mode::write_new, ec);
  if (ec) {
    spdlog::error("cannot spool upload to {}: {}", spool.string(), ec.message());
    return refuse(Response::error(500, "internal_error", "internal server error"));
  }
  bhttp::async_read(
      socket_, buffer_, *file_parser,
      [self = shared_from_this(), file_parser, spool, limit, request = std::move(request),
       keep_alive](beast::error_code ec, std::size_t) mutable {
        file_parser->get().body().close();
        if (ec) remove_quietly(spool);
        if (ec == bhttp::error::body_limit) {
          return self->refuse(body_too_large(true, limit, std::nullopt));
        }
        if (ec) return self->close();
        request.body_file = spool;  // removed after dispatch unless the handler moved it
        self->dispatch_api(std::move(request), keep_alive);
      });
}

void Connection::read_json_body(Request request, std::uint64_t limit, bool keep_alive) {
  auto body_parser =
      std::make_shared<bhttp::request_parser<bhttp::string_body>>(std::move(*parser_));
  body_parser->body_limit(limit);
  bhttp::async_read(
      socket_, buffer_, *body_parser,
      [self = shared_from_this(), body_parser, limit, request = std::move(request), keep_alive](
          beast::error_code ec, std::size_t) mutable {
        if (ec == bhttp::error::body_limit) {
          return self->refuse(body_too_large(false, limit, std::nullopt));
        }
        if (ec) return self->close();
        request.body = std::move(body_parser->get().body());
        self->dispatch_api(std::move(request), keep_alive);
      });
}

void Connection::refuse(Response response) {
  linger_on_close();
  send(std::move(response), false);
}

void Connection::linger_on_close() {
  linger_ = true;
}

void Connection::dispatch_api(Request request, bool keep_alive) {
  asio::post(shared_->handlers, [self = shared_from_this(), request = std::move(request),
                                 keep_alive]() mutable {
    Response response = self->shared_->router.dispatch(request);
    if (!request.body_file.empty()) remove_quietly(request.body_file);
    if (request.path.starts_with("/api/")) {
      response.headers.set("Content-Security-Policy", "default-src 'none'; frame-ancestors 'none'");
      response.headers.set("Cache-Control", "no-store");
    }
    asio::post(self->socket_.get_executor(),
               [self, response = std::move(response), keep_alive]() mutable {
                 self->send(std::move(response), keep_alive);
               });
  });
}

CommonHeaders::CommonHeaders(const ServerOptions& options) {
  fields = {{"X-Content-Type-Options", "nosniff"},
            {"X-Frame-Options", "DENY"},
            {"Referrer-Policy", "strict-origin-when-cross-origin"}};
  if (options.hsts) {
    fields.emplace_back("Strict-Transport-Security", "max-age=63072000; includeSubDomains");
  }
  fields.emplace_back("X-Blockyard-Version", options.version);
  for (const auto& [name, value] : fields) wire_lines += name + ": " + value + "\r\n";
}

void Connection::add_common_headers(bhttp::fields& fields) const {
  for (const auto& [name, value] : shared_->common_headers.fields) fields.set(name, value);
}

const std::string& Connection::common_header_lines(bhttp::fields& fields) const {
  for (const auto& [name, value] : shared_->common_headers.fields) fields.erase(name);
  return shared_->common_headers.wire_lines;
}

void Connection::send(Response response, bool keep_alive) {
  if (response.stream) {
    write_streamed(std::make_shared<Response>(std::move(response)), keep_alive);
    return;
  }
  auto res = std::make_shared<bhttp::response<bhttp::string_body>>();
  res->version(11);
  res->result(static_cast<unsigned>(response.status));
  for (const auto& [name, value] : response.headers.all()) res->insert(name, value);
  add_common_headers(*res);
  res->body() = std::move(response.body);
  res->keep_alive(keep_alive);
  res->prepare_payload();
  deadline_.expires_after(kBodyTimeout);
  bhttp::async_write(
      socket_, *res,
      [self = shared_from_this(), res, keep_alive](beast::error_code ec, std::size_t) {
        self->finish_request(keep_alive && !ec);
      });
}

void Connection::write_streamed(std::shared_ptr<Response> response, bool keep_alive) {
  auto res = std::make_shared<bhttp::response<bhttp::empty_body>>();
  res->version(11);
  res->result(static_cast<unsigned>(response->status));
  for (const auto& [name, value] : response->headers.all()) res->insert(name, value);
  add_common_headers(*res);
  res->keep_alive(keep_alive);
  res->chunked(true);
  auto serializer = std::make_shared<bhttp::response_serializer<bhttp::empty_body>>(*res);
  deadline_.expires_never();  // followers may wait a long time between lines
  bhttp::async_write_header(socket_, *serializer,
                            [self = shared_from_this(), res, serializer, response, keep_alive](
                                beast::error_code ec, std::size_t) {
                              if (ec) return self->close();
                              self->pump_chunks(response, keep_alive);
                            });
}

void Connection::pump_chunks(std::shared_ptr<Response> response, bool keep_alive) {
  // The producer may block briefly, so it runs on the handler pool.
  asio::post(shared_->handlers, [self = shared_from_this(), response, keep_alive] {
    Chunk chunk = response->stream();
    asio::post(self->socket_.get_executor(),
               [self, response, keep_alive, chunk = std::move(chunk)]() mutable {
                 auto data = std::make_shared<std::string>(std::move(chunk.data));
                 auto after_data = [self, response, keep_alive, done = chunk.done](
                                       beast::error_code ec, std::size_t) {
                   if (ec) return self->close();
                   if (!done) return self->pump_chunks(response, keep_alive);
                   asio::async_write(self->socket_, bhttp::make_chunk_last(),
                                     [self, keep_alive](beast::error_code ec2, std::size_t) {
                                       self->finish_request(keep_alive && !ec2);
                                     });
                 };
                 if (data->empty()) {
                   if (chunk.done) return after_data({}, 0);
                   // Nothing yet: poll again shortly.
                   auto timer = std::make_shared<asio::steady_timer>(
                       self->socket_.get_executor(), std::chrono::milliseconds(100));
                   timer->async_wait([timer, after_data](beast::error_code) { after_data({}, 0); });
                   return;
                 }
                 asio::async_write(self->socket_, bhttp::make_chunk(asio::buffer(*data)),
                                   [data, after_data](beast::error_code ec, std::size_t n) {
                                     after_data(ec, n);
                                   });
               });
  });
}

void Connection::on_deadline_passed() {
  if (auto action = std::exchange(deadline_action_, nullptr)) return action();
  // Pending reads and writes end as aborted.
  beast::error_code ignored;
  socket_.close(ignored);
}

void Connection::end_in_flight() {
  deadline_action_ = nullptr;  // the request it was for is over
  if (in_flight_) {
    in_flight_ = false;
    --shared_->in_flight;
  }
}

void Connection::finish_request(bool keep_alive) {
  end_in_flight();
  if (!keep_alive) return close();
  read_header();
}

void Connection::detach() {
  end_in_flight();
}

void Connection::close() {
  end_in_flight();
  beast::error_code ec;
  socket_.shutdown(tcp::socket::shutdown_send, ec);
  if (linger_) {
    linger_ = false;
    deadline_.expires_after(kLingerTime);
    return discard_until_closed();
  }
  socket_.close(ec);
  deadline_.cancel();
}

// Closing a socket with unread bytes makes the kernel reset the connection,
// and a reset can destroy the answer before the client reads it. So after an
// early answer (a refused body) we read and drop what the client still sends
// until it closes, for at most kLingerTime.
void Connection::discard_until_closed() {
  socket_.async_read_some(buffer_.prepare(kLingerChunk), [self = shared_from_this()](
                                                             beast::error_code ec, std::size_t) {
    self->buffer_.clear();
    if (!ec) return self->discard_until_closed();
    beast::error_code ignored;
    self->socket_.close(ignored);
  });
}

}  // namespace blockyard::http
