#include "proxy/resilient_socket.h"

#include <spdlog/spdlog.h>

#include <boost/asio/dispatch.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/websocket.hpp>

#include <optional>
#include <utility>
#include <vector>

#include "http/message.h"
#include "proxy/compact_queue.h"
#include "proxy/resume_buffer.h"
#include "proxy/resume_protocol.h"
#include "proxy/upstream.h"

namespace blockyard::proxy {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace bhttp = beast::http;
namespace websocket = beast::websocket;
using tcp = asio::ip::tcp;
using Strand = asio::strand<asio::io_context::executor_type>;
using WsStream = websocket::stream<beast::tcp_stream>;
// The worker's side: TCP or a Unix socket (upstream.h).
using BackendStream = websocket::stream<beast::basic_stream<asio::generic::stream_protocol>>;

namespace {

constexpr auto kAckDelay = std::chrono::milliseconds(200);
constexpr auto kConnectTimeout = std::chrono::seconds(30);
// Client reads pause while this much waits for the worker; worker reads
// pause while this many messages wait for an attached browser.
constexpr std::size_t kMaxBackendBacklogBytes = 1u << 20;
constexpr std::uint64_t kMaxClientBacklogMessages = 64;
// Messages to the worker are masked through Beast's per-stream write buffer,
// which stays allocated at this size once the first message went out (Beast's
// default, 4 KiB, would be most of an idle session); larger messages go out
// in frames of this size.
constexpr std::size_t kBackendWriteChunk = 1024;

std::string_view sv(beast::string_view s) {
  return {s.data(), s.size()};
}

websocket::close_reason ended_close_reason() {
  return {static_cast<websocket::close_code>(kSessionEndedCloseCode), "session ended"};
}

// Moves a socket onto `strand`, so all of a session's operations share it.
tcp::socket rehome(tcp::socket socket, const Strand& strand) {
  tcp::socket out(strand);
  beast::error_code ec;
  auto endpoint = socket.local_endpoint(ec);
  if (ec) return out;
  auto fd = socket.release(ec);
  if (ec) return out;
  out.assign(endpoint.protocol(), fd, ec);
  if (ec) ::close(fd);
  return out;
}

// Headers of the browser's upgrade that the worker's handshake repeats
// (Beast writes the WebSocket mechanics itself).
std::vector<std::pair<std::string, std::string>> forwarded_headers(
    const bhttp::request<bhttp::empty_body>& request) {
  std::vector<std::pair<std::string, std::string>> out;
  for (const auto& f : request) {
    auto name = sv(f.name_string());
    if (http::iequals(name, "host") || http::iequals(name, "upgrade") ||
        http::iequals(name, "connection") || http::iequals(name, "content-length") ||
        http::iequals(name, "transfer-encoding") || name.starts_with("Sec-WebSocket-") ||
        name.starts_with("sec-websocket-")) {
      continue;
    }
    out.emplace_back(std::string(name), std::string(sv(f.value())));
  }
  return out;
}

void reply_http_error(tcp::socket socket, unsigned status, const std::string& message,
                      const bhttp::fields& extra) {
  auto stream = std::make_shared<beast::tcp_stream>(std::move(socket));
  auto res =
      std::make_shared<bhttp::response<bhttp::string_body>>(static_cast<bhttp::status>(status), 11);
  for (const auto& f : extra) res->insert(f.name_string(), f.value());
  res->set(bhttp::field::content_type, "text/plain; charset=utf-8");
  res->body() = message + "\n";
  res->keep_alive(false);
  res->prepare_payload();
  stream->expires_after(std::chrono::seconds(10));
  bhttp::async_write(*stream, *res, [stream, res](beast::error_code, std::size_t) {
    beast::error_code ignored;
    stream->socket().shutdown(tcp::socket::shutdown_send, ignored);
    stream->close();
  });
}

// A message being read: straight into the string that will carry it on.
struct Inbound {
  std::string payload;
  std::optional<decltype(asio::dynamic_buffer(payload))> buffer;  // during the read

  std::string take() {
    buffer.reset();
    return std::exchange(payload, {});
  }
};

// Reads the next whole message of `ws` into `into` (empty on entry), then
// calls done(ec). It waits for the message with a zero-byte read, which
// handles pings and close frames but needs no buffer: Beast's async_read
// would allocate its first 1.5 KiB before any byte arrives, and a Shiny
// session spends most of its life waiting. The message is then read straight
// into the string, which the caller moves on; no buffer outlives a message,
// however large it was.
template <class Stream, class Done>
void read_message(Stream& ws, Inbound& into, Done done) {
  // Empty but not null: Beast's UTF-8 check of a text frame reads from the
  // pointer even for zero bytes.
  static char no_bytes;
  ws.async_read_some(
      asio::mutable_buffer(&no_bytes, 0),
      [&ws, &into, done = std::move(done)](beast::error_code ec, std::size_t) mutable {
        if (ec || ws.is_message_done()) return done(ec);  // or an empty message
        ws.async_read(
            into.buffer.emplace(into.payload),
            [done = std::move(done)](beast::error_code ec, std::size_t) mutable { done(ec); });
      });
}

// Drops a handshake's decorator: its copied headers are needed only once.
template <class Stream, class Message>
void forget_decorator(Stream& ws) {
  ws.set_option(websocket::stream_base::decorator([](Message&) {}));
}

// One browser WebSocket. A session has at most one current link; a replaced
// or lost link is closed and its late completions are ignored.
struct ClientLink {
  explicit ClientLink(tcp::socket socket) : ws(std::move(socket)) {}
  WsStream ws;
  Inbound message;
  CompactQueue<std::string> control;  // control frames waiting to be written
  bool accepted = false;
  bool reading = false;
  bool writing = false;
  bool close_when_drained = false;
  websocket::close_reason close_reason;

  void drop() {
    beast::error_code ignored;
    beast::get_lowest_layer(ws).socket().shutdown(tcp::socket::shutdown_both, ignored);
    beast::get_lowest_layer(ws).close();
  }
};

void configure_client(ClientLink& link, const ResilientOptions& options,
                      const bhttp::fields& response_fields) {
  websocket::stream_base::timeout timeout{};
  timeout.handshake_timeout = std::chrono::seconds(30);
  timeout.idle_timeout = options.client_idle_timeout;
  timeout.keep_alive_pings = true;
  link.ws.set_option(timeout);
  link.ws.read_message_max(options.max_message_bytes);
  std::vector<std::pair<std::string, std::string>> extra;
  for (const auto& f : response_fields) {
    extra.emplace_back(std::string(sv(f.name_string())), std::string(sv(f.value())));
  }
  link.ws.set_option(
      websocket::stream_base::decorator([extra = std::move(extra)](websocket::response_type& res) {
        for (const auto& [name, value] : extra) res.insert(name, value);
      }));
}

// Tells an accepted browser socket that its session is over, then closes it.
void send_ended_and_close(std::shared_ptr<ClientLink> link, const std::string& reason) {
  auto frame = std::make_shared<std::string>(control_ended(reason));
  link->ws.text(true);
  link->ws.async_write(asio::buffer(*frame), [link, frame](beast::error_code ec, std::size_t) {
    if (ec) return link->drop();
    link->ws.async_close(ended_close_reason(), [link](beast::error_code) { link->drop(); });
  });
}

void refuse_upgrade(ClientUpgrade client, const Strand& strand, const ResilientOptions& options,
                    const std::string& reason) {
  auto link = std::make_shared<ClientLink>(rehome(std::move(client.socket), strand));
  configure_client(*link, options, client.response_fields);
  auto request = std::make_shared<bhttp::request<bhttp::empty_body>>(std::move(client.request));
  link->ws.async_accept(*request, [link, request, reason](beast::error_code ec) {
    if (ec) return link->drop();
    send_ended_and_close(link, reason);
  });
}

}  // namespace

class ResilientSession : public std::enable_shared_from_this<ResilientSession> {
 public:
  ResilientSession(Strand strand, ResumeRegistry& registry, const ResilientOptions& options,
                   SessionBinding binding, std::function<void()> on_end)
      : strand_(strand),
        registry_(registry),
        options_(options),
        binding_(std::move(binding)),
        on_end_(std::move(on_end)),
        backend_(UpstreamSocket(strand)),
        to_client_(options.max_unacked_bytes),
        hold_timer_(strand),
        ack_timer_(strand) {}

  ~ResilientSession() {
    if (!token_.empty()) registry_.remove(token_);
    if (on_end_) on_end_();
  }

  ResilientSession(const ResilientSession&) = delete;
  ResilientSession& operator=(const ResilientSession&) = delete;

  void open(BackendTarget backend, ClientUpgrade client, std::function<void()> on_open) {
    on_open_ = std::move(on_open);
    auto pending = std::make_shared<ClientUpgrade>(std::move(client));
    pending->socket = rehome(std::move(pending->socket), strand_);
    asio::dispatch(strand_, [self = shared_from_this(), pending, backend = std::move(backend)] {
      self->connect_backend(pending, backend);
    });
  }

  void resume(ClientUpgrade client, std::uint64_t last) {
    auto pending = std::make_shared<ClientUpgrade>(std::move(client));
    pending->socket = rehome(std::move(pending->socket), strand_);
    asio::dispatch(
        strand_, [self = shared_from_this(), pending, last] { self->attach(pending, last, true); });
  }

 private:
  using Pending = std::shared_ptr<ClientUpgrade>;

  void connect_backend(const Pending& pending, const BackendTarget& backend) {
    auto endpoint = upstream_endpoint(backend.endpoint);
    if (!endpoint) return fail_open(pending, "the app's worker is not reachable");
    auto& lowest = beast::get_lowest_layer(backend_);
    lowest.expires_after(kConnectTimeout);
    lowest.async_connect(*endpoint,
                         [self = shared_from_this(), pending, backend](beast::error_code ec) {
                           if (ec) {
                             spdlog::warn("proxy: resumable WebSocket: cannot reach worker {}: {}",
                                          backend.endpoint.to_string(), ec.message());
                             return self->fail_open(pending, "the app's worker is not reachable");
                           }
                           self->handshake_backend(pending, backend);
                         });
  }

  void handshake_backend(const Pending& pending, const BackendTarget& backend) {
    auto& lowest = beast::get_lowest_layer(backend_);
    lowest.expires_never();
    tune_upstream(lowest.socket());
    backend_.set_option(websocket::stream_base::timeout::suggested(beast::role_type::client));
    backend_.read_message_max(options_.max_message_bytes);
    backend_.set_option(websocket::stream_base::decorator(
        [headers = forwarded_headers(pending->request)](websocket::request_type& req) {
          for (const auto& [name, value] : headers) req.set(name, value);
        }));
    auto host_header = pending->request[bhttp::field::host];
    std::string host = !host_header.empty()         ? std::string(sv(host_header))
                       : backend.endpoint.is_unix() ? "localhost"
                                                    : backend.endpoint.to_string();
    backend_.async_handshake(
        host, backend.target, [self = shared_from_this(), pending](beast::error_code ec) {
          if (ec) {
            return self->fail_open(pending, "the app's worker did not accept the WebSocket");
          }
          forget_decorator<BackendStream, websocket::request_type>(self->backend_);
          self->backend_.write_buffer_bytes(kBackendWriteChunk);
          auto binding = std::exchange(self->binding_, {});  // the registry keeps it
          self->token_ =
              self->registry_.add(self->weak_from_this(), std::move(binding.route_session),
                                  std::move(binding.app_id), std::move(binding.worker_id));
          self->backend_open_ = true;
          if (auto opened = std::exchange(self->on_open_, nullptr)) opened();
          self->read_backend();
          self->attach(pending, 0, false);
        });
  }

  void fail_open(const Pending& pending, const std::string& message) {
    ended_ = true;
    reply_http_error(std::move(pending->socket), 502, message, pending->response_fields);
  }

  // --- browser side -------------------------------------------------------

  void attach(const Pending& pending, std::uint64_t last, bool resumed) {
    auto link = std::make_shared<ClientLink>(std::move(pending->socket));
    configure_client(*link, options_, pending->response_fields);
    link->ws.async_accept(pending->request, [self = shared_from_this(), link, pending, last,
                                             resumed](beast::error_code ec) {
      if (ec) {
        link->drop();
        // A failed resume leaves the session held; a failed first accept ends it.
        if (!resumed) self->end_session("browser WebSocket accept failed", false);
        return;
      }
      self->on_accepted(link, last, resumed);
    });
  }

  void on_accepted(const std::shared_ptr<ClientLink>& link, std::uint64_t last, bool resumed) {
    forget_decorator<WsStream, websocket::response_type>(link->ws);
    if (ended_) return send_ended_and_close(link, "the session has ended");
    if (resumed && !to_client_.can_resume_from(last)) {
      send_ended_and_close(link, "the session cannot be resumed");
      return end_session("resume refused: messages missing", false);
    }
    if (client_) {
      auto stale = std::exchange(client_, nullptr);  // a connection we had not seen die
      stale->drop();
    }
    ++hold_generation_;
    hold_timer_.cancel();
    if (resumed) to_client_.acknowledge(last);
    next_to_client_ = to_client_.acknowledged() + 1;
    link->accepted = true;
    client_ = link;
    link->control.push_back(control_hello(token_, from_client_.take_ack(), resumed,
                                          static_cast<long long>(options_.hold_ttl.count())));
    if (resumed) {
      spdlog::debug("proxy: resumable WebSocket resumed (replaying {} message(s))",
                    to_client_.last() - last);
    }
    pump_client(link);
    read_client(link);
    maybe_read_backend();
  }

  void read_client(const std::shared_ptr<ClientLink>& link) {
    link->reading = true;
    read_message(link->ws, link->message, [self = shared_from_this(), link](beast::error_code ec) {
      link->reading = false;
      if (link != self->client_ || self->ended_) return;
      if (ec == websocket::error::closed) {
        return self->end_session("browser closed the WebSocket", false);
      }
      if (ec) return self->on_client_lost(link, ec);
      self->on_client_message(link);
    });
  }

  void on_client_message(const std::shared_ptr<ClientLink>& link) {
    bool text = link->ws.got_text();
    std::string data = link->message.take();
    if (text) {
      auto frame = decode_text_frame(data);
      if (frame.control) {
        if (is_control_close(frame.payload)) {
          return end_session("the page closed the session", false);
        }
        on_client_control(frame.payload);
        return read_client(link);
      }
      data = std::move(frame.payload);
    }
    from_client_.on_message();
    to_backend_bytes_ += data.size();
    to_backend_.push_back(std::make_shared<const WsMessage>(WsMessage{!text, std::move(data)}));
    pump_backend();
    schedule_ack();
    if (to_backend_bytes_ <= kMaxBackendBacklogBytes) read_client(link);
  }

  void on_client_control(const std::string& payload) {
    auto n = parse_control_ack(payload);
    if (!n) return;  // unknown control messages are ignored (newer clients)
    if (*n >= next_to_client_) {
      spdlog::debug("proxy: resumable WebSocket: ack {} for unsent messages ignored", *n);
      return;
    }
    to_client_.acknowledge(*n);
  }

  void schedule_ack() {
    if (!client_ || !from_client_.ack_pending()) return;
    if (from_client_.ack_urgent()) return queue_ack();
    if (ack_timer_armed_) return;
    ack_timer_armed_ = true;
    ack_timer_.expires_after(kAckDelay);
    ack_timer_.async_wait([self = shared_from_this()](beast::error_code ec) {
      self->ack_timer_armed_ = false;
      if (!ec) self->queue_ack();
    });
  }

  void queue_ack() {
    if (!client_ || ended_ || !from_client_.ack_pending()) return;
    client_->control.push_back(control_ack(from_client_.take_ack()));
    pump_client(client_);
  }

  // Writes the next frame to `link`: control frames first, then the
  // messages the browser has not been sent yet, then a pending close.
  void pump_client(const std::shared_ptr<ClientLink>& link) {
    if (link->writing || !link->accepted) return;
    if (!link->control.empty()) {
      auto frame = std::make_shared<const std::string>(std::move(link->control.front()));
      link->control.pop_front();
      return write_client(link, true, asio::buffer(*frame), frame);
    }
    if (link == client_ && !ended_ && next_to_client_ <= to_client_.last()) {
      auto message = to_client_.at(next_to_client_++);
      if (!message->binary && !message->payload.empty() &&
          message->payload.front() == kControlMark) {
        auto escaped = std::make_shared<const std::string>(encode_app_text(message->payload));
        return write_client(link, true, asio::buffer(*escaped), escaped);
      }
      return write_client(link, !message->binary, asio::buffer(message->payload), message);
    }
    if (link->close_when_drained) {
      link->close_when_drained = false;
      link->writing = true;
      link->ws.async_close(link->close_reason, [link](beast::error_code) {
        link->writing = false;
        link->drop();
      });
      return;
    }
    maybe_read_backend();
  }

  void write_client(const std::shared_ptr<ClientLink>& link, bool text, asio::const_buffer bytes,
                    std::shared_ptr<const void> keep) {
    link->writing = true;
    link->ws.text(text);
    link->ws.async_write(bytes, [self = shared_from_this(), link, keep = std::move(keep)](
                                    beast::error_code ec, std::size_t) {
      link->writing = false;
      if (ec) {
        if (link == self->client_) return self->on_client_lost(link, ec);
        return link->drop();
      }
      self->pump_client(link);
    });
  }

  // The browser's connection broke without a close frame: hold the worker's
  // socket for ws_cache_ttl, unless resuming is impossible anyway.
  void on_client_lost(const std::shared_ptr<ClientLink>& link, beast::error_code why) {
    if (link != client_) return;
    client_ = nullptr;
    link->drop();
    if (ended_) return;
    if (options_.hold_ttl.count() <= 0) return end_session("browser connection lost", false);
    if (to_client_.over_limit()) {
      return end_session("browser connection lost with more unacknowledged data than kept", false);
    }
    spdlog::debug("proxy: resumable WebSocket: browser connection lost ({}); holding for {} ms",
                  why.message(), options_.hold_ttl.count());
    auto generation = ++hold_generation_;
    hold_timer_.expires_after(options_.hold_ttl);
    hold_timer_.async_wait([self = shared_from_this(), generation](beast::error_code ec) {
      if (ec || generation != self->hold_generation_ || self->client_) return;
      self->end_session("no resume within ws_cache_ttl", false);
    });
    maybe_read_backend();
  }

  // --- worker side --------------------------------------------------------

  bool backend_should_pause() const {
    return client_ && to_client_.last() + 1 - next_to_client_ > kMaxClientBacklogMessages;
  }

  void maybe_read_backend() {
    if (backend_open_ && !backend_reading_ && !ended_ && !backend_should_pause()) read_backend();
  }

  void read_backend() {
    backend_reading_ = true;
    read_message(backend_, backend_message_, [self = shared_from_this()](beast::error_code ec) {
      self->backend_reading_ = false;
      if (self->ended_) return;
      if (ec) {
        return self->end_session(ec == websocket::error::closed ? "the app closed the WebSocket"
                                                                : "the app's WebSocket failed",
                                 true);
      }
      bool binary = !self->backend_.got_text();
      std::string data = self->backend_message_.take();
      self->to_client_.push(std::make_shared<const WsMessage>(WsMessage{binary, std::move(data)}));
      if (!self->client_ && self->to_client_.over_limit()) {
        return self->end_session("more unacknowledged data than kept while disconnected", false);
      }
      if (self->client_) self->pump_client(self->client_);
      self->maybe_read_backend();
    });
  }

  void pump_backend() {
    if (backend_writing_ || to_backend_.empty() || ended_) return;
    auto message = to_backend_.front();
    backend_writing_ = true;
    backend_.text(!message->binary);
    backend_.async_write(asio::buffer(message->payload), [self = shared_from_this(), message](
                                                             beast::error_code ec, std::size_t) {
      self->backend_writing_ = false;
      self->to_backend_.pop_front();
      self->to_backend_bytes_ -= message->payload.size();
      if (ec) return self->end_session("writing to the app failed", true);
      self->pump_backend();
      auto link = self->client_;
      if (link && !link->reading && self->to_backend_bytes_ <= kMaxBackendBacklogBytes) {
        self->read_client(link);
      }
    });
  }

  // --- end ----------------------------------------------------------------

  // Closes the worker's socket (Shiny ends the R session) and forgets the
  // token. `tell_client`: the browser is still there and should know why.
  void end_session(const std::string& reason, bool tell_client) {
    if (ended_) return;
    ended_ = true;
    spdlog::debug("proxy: resumable WebSocket session ended: {}", reason);
    if (!token_.empty()) registry_.remove(token_);
    hold_timer_.cancel();
    ack_timer_.cancel();
    backend_open_ = false;
    beast::error_code ignored;
    beast::get_lowest_layer(backend_).socket().shutdown(asio::socket_base::shutdown_both, ignored);
    beast::get_lowest_layer(backend_).close();
    auto link = std::exchange(client_, nullptr);
    if (!link) return;
    if (tell_client) {
      link->control.push_back(control_ended(reason));
      link->close_reason = ended_close_reason();
      link->close_when_drained = true;
      pump_client(link);
    }
  }

  Strand strand_;
  ResumeRegistry& registry_;
  const ResilientOptions options_;
  SessionBinding binding_;  // until the registry has it
  std::function<void()> on_end_;
  std::function<void()> on_open_;  // until the worker accepted the WebSocket
  std::string token_;

  BackendStream backend_;
  Inbound backend_message_;
  bool backend_open_ = false;
  bool backend_reading_ = false;
  bool backend_writing_ = false;
  CompactQueue<SharedMessage> to_backend_;  // received from the browser, not yet written
  std::size_t to_backend_bytes_ = 0;
  InboundCounter from_client_;

  std::shared_ptr<ClientLink> client_;
  ReplayBuffer to_client_;
  std::uint64_t next_to_client_ = 1;
  asio::steady_timer hold_timer_;
  std::uint64_t hold_generation_ = 0;
  asio::steady_timer ack_timer_;
  bool ack_timer_armed_ = false;
  bool ended_ = false;
};

void start_resilient_session(asio::io_context& io, ResumeRegistry& registry,
                             const ResilientOptions& options, SessionBinding binding,
                             BackendTarget backend, ClientUpgrade client,
                             std::function<void()> on_end, std::function<void()> on_open) {
  auto session = std::make_shared<ResilientSession>(asio::make_strand(io), registry, options,
                                                    std::move(binding), std::move(on_end));
  session->open(std::move(backend), std::move(client), std::move(on_open));
}

void resume_resilient_session(asio::io_context& io, ResumeRegistry& registry,
                              const std::string& token, std::uint64_t last,
                              const SessionBinding& binding, ClientUpgrade client) {
  auto session = registry.find(token, binding.route_session, binding.app_id);
  if (!session) {
    ResilientOptions options;
    refuse_upgrade(std::move(client), asio::make_strand(io), options, "the session has ended");
    return;
  }
  session->resume(std::move(client), last);
}

}  // namespace blockyard::proxy
