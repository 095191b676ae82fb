#include "http/connection.h"

#include <fcntl.h>
#include <spdlog/spdlog.h>
#include <unistd.h>

#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/write.hpp>

#include "core/crypto.h"
#include "http/rate_limiter.h"
#include "http/server_shared.h"

namespace blockyard::http {

namespace {

constexpr auto kHeaderTimeout = std::chrono::seconds(30);
constexpr auto kBodyTimeout = std::chrono::minutes(10);
constexpr std::uint32_t kHeaderLimit = 16 * 1024;

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

// Every X-Forwarded-For line, joined as one list.
std::string forwarded_for(const bhttp::request_header<>& header) {
  std::string joined;
  for (const auto& field : header) {
    if (!iequals(to_sv(field.name_string()), "x-forwarded-for")) continue;
    if (!joined.empty()) joined += ',';
    joined += to_sv(field.value());
  }
  return joined;
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

Connection::Connection(tcp::socket socket, std::shared_ptr<ServerShared> shared)
    : stream_(std::move(socket)), shared_(std::move(shared)) {
  beast::error_code ec;
  auto ep = stream_.socket().remote_endpoint(ec);
  if (!ec) peer_ip_ = ep.address().to_string();
  stream_.socket().set_option(tcp::no_delay(true), ec);
}

Connection::~Connection() {
  end_in_flight();
}

void Connection::start() {
  asio::dispatch(stream_.get_executor(), [self = shared_from_this()] { self->read_header(); });
}

void Connection::read_header() {
  parser_.emplace();
  parser_->header_limit(kHeaderLimit);
  // Each route sets its own body limit once the body parser takes over; the
  // header parser would otherwise refuse any Content-Length over 1 MiB.
  parser_->body_limit(std::numeric_limits<std::uint64_t>::max());
  stream_.expires_after(kHeaderTimeout);
  read_header_bytes();
}

// The header is collected and checked as raw bytes before Beast parses it:
// Beast silently unfolds obs-fold lines, which other servers read differently.
void Connection::read_header_bytes() {
  std::string_view data(static_cast<const char*>(buffer_.data().data()), buffer_.size());
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
  stream_.async_read_some(
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
  if (is_data_plane_path(to_sv(parser_->get().target())) && shared_->data_plane) {
    shared_->data_plane->handle(shared_from_this(), *parser_);
    return;
  }
  read_api_body();
}

void Connection::read_api_body() {
  auto request = to_request(parser_->get(), peer_ip_, shared_->trusted);
  const bool keep_alive = parser_->get().keep_alive();
  stream_.expires_after(kBodyTimeout);

  if (is_upload_route(request.method, request.path)) {
    std::filesystem::create_directories(shared_->options.upload_dir);
    auto spool = shared_->options.upload_dir / ("upload-" + uuid_v4() + ".tar.gz");
    auto file_parser =
        std::make_shared<bhttp::request_parser<bhttp::file_body>>(std::move(*parser_));
    file_parser->body_limit(shared_->options.upload_body_limit);
    beast::error_code ec;
    file_parser->get().body().open(spool.c_str(), beast::file_mode::write_new, ec);
    if (ec) {
      spdlog::error("cannot spool upload to {}: {}", spool.string(), ec.message());
      send(Response::error(500, "internal_error", "internal server error"), false);
      return;
    }
    bhttp::async_read(
        stream_, buffer_, *file_parser,
        [self = shared_from_this(), file_parser, spool, request = std::move(request), keep_alive](
            beast::error_code ec, std::size_t) mutable {
          file_parser->get().body().close();
          if (ec) remove_quietly(spool);
          if (ec == bhttp::error::body_limit) {
            self->send(Response::error(413, "payload_too_large", "bundle exceeds max_bundle_size"),
                       false);
            return;
          }
          if (ec) {
            self->close();
            return;
          }
          request.body_file = spool;  // removed after dispatch unless the handler moved it
          self->dispatch_api(std::move(request), keep_alive);
        });
    return;
  }

  auto body_parser =
      std::make_shared<bhttp::request_parser<bhttp::string_body>>(std::move(*parser_));
  body_parser->body_limit(shared_->options.api_body_limit);
  bhttp::async_read(
      stream_, buffer_, *body_parser,
      [self = shared_from_this(), body_parser, request = std::move(request), keep_alive](
          beast::error_code ec, std::size_t) mutable {
        if (ec == bhttp::error::body_limit) {
          self->send(Response::error(413, "payload_too_large", "request body too large"), false);
          return;
        }
        if (ec) {
          self->close();
          return;
        }
        request.body = std::move(body_parser->get().body());
        self->dispatch_api(std::move(request), keep_alive);
      });
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
    asio::post(self->stream_.get_executor(),
               [self, response = std::move(response), keep_alive]() mutable {
                 self->send(std::move(response), keep_alive);
               });
  });
}

void Connection::add_common_headers(bhttp::fields& fields) const {
  fields.set("X-Content-Type-Options", "nosniff");
  fields.set("X-Frame-Options", "DENY");
  fields.set("Referrer-Policy", "strict-origin-when-cross-origin");
  if (shared_->options.hsts) {
    fields.set("Strict-Transport-Security", "max-age=63072000; includeSubDomains");
  }
  fields.set("X-Blockyard-Version", shared_->options.version);
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
  stream_.expires_after(kBodyTimeout);
  bhttp::async_write(
      stream_, *res,
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
  stream_.expires_never();  // followers may wait a long time between lines
  bhttp::async_write_header(stream_, *serializer,
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
    asio::post(self->stream_.get_executor(),
               [self, response, keep_alive, chunk = std::move(chunk)]() mutable {
                 auto data = std::make_shared<std::string>(std::move(chunk.data));
                 auto after_data = [self, response, keep_alive, done = chunk.done](
                                       beast::error_code ec, std::size_t) {
                   if (ec) return self->close();
                   if (!done) return self->pump_chunks(response, keep_alive);
                   asio::async_write(self->stream_, bhttp::make_chunk_last(),
                                     [self, keep_alive](beast::error_code ec2, std::size_t) {
                                       self->finish_request(keep_alive && !ec2);
                                     });
                 };
                 if (data->empty()) {
                   if (chunk.done) return after_data({}, 0);
                   // Nothing yet: poll again shortly.
                   auto timer = std::make_shared<asio::steady_timer>(
                       self->stream_.get_executor(), std::chrono::milliseconds(100));
                   timer->async_wait([timer, after_data](beast::error_code) { after_data({}, 0); });
                   return;
                 }
                 asio::async_write(self->stream_, bhttp::make_chunk(asio::buffer(*data)),
                                   [data, after_data](beast::error_code ec, std::size_t n) {
                                     after_data(ec, n);
                                   });
               });
  });
}

void Connection::end_in_flight() {
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
  stream_.socket().shutdown(tcp::socket::shutdown_send, ec);
  stream_.socket().close(ec);
}

}  // namespace blockyard::http
