#include "proxy/proxy_handler.h"

#include <spdlog/spdlog.h>

#include <boost/asio/connect.hpp>
#include <boost/asio/post.hpp>
#include <nlohmann/json.hpp>

#include "auth/cookies.h"
#include "auth/csrf.h"
#include "auth/oidc_client.h"
#include "authz/access.h"
#include "core/crypto.h"
#include "core/url.h"
#include "http/rate_limiter.h"
#include "proxy/fast_write.h"
#include "proxy/html_injector.h"
#include "proxy/loading_page.h"
#include "proxy/relay.h"
#include "proxy/resilient_socket.h"
#include "proxy/resume_protocol.h"
#include "proxy/tunnel.h"
#include "proxy/upstream.h"
#include "proxy/user_errors.h"
#include "proxy/worker_end.h"

namespace blockyard::proxy {

using http::asio::ip::tcp;
namespace asio = http::asio;
namespace beast = http::beast;
namespace bhttp = http::bhttp;

namespace {

constexpr std::uint64_t kMaxForwardBody = 64ull << 20;
// Room for a usual request or response header written by hand (fast_write.h).
constexpr std::size_t kWireReserve = 1024;
// Lines of R output the loading page shows a publisher when a start fails.
constexpr std::size_t kFailureLogLines = 30;

std::string_view sv(beast::string_view s) {
  return {s.data(), s.size()};
}

bool starts_with_icase(std::string_view s, std::string_view prefix) {
  return s.size() >= prefix.size() && http::iequals(s.substr(0, prefix.size()), prefix);
}

bool accepts_html(const bhttp::fields& fields) {
  return http::prefers_html(sv(fields[bhttp::field::accept]));
}

// Headers a client must never be able to set for the app: identity and
// forwarding headers are the proxy's to write.
bool is_spoofable(std::string_view name) {
  return starts_with_icase(name, "x-shiny-") || starts_with_icase(name, "x-blockyard-") ||
         starts_with_icase(name, "x-forwarded-") || http::iequals(name, "x-real-ip") ||
         http::iequals(name, "forwarded");
}

bool is_hop_by_hop(std::string_view name) {
  static constexpr std::string_view kHopByHop[] = {
      "connection", "keep-alive",        "proxy-connection", "te",
      "trailer",    "transfer-encoding", "upgrade",          "proxy-authorization"};
  for (std::string_view h : kHopByHop) {
    if (http::iequals(name, h)) return true;
  }
  return false;
}

template <class Fields>
void strip_headers(Fields& fields, bool keep_upgrade) {
  for (auto it = fields.begin(); it != fields.end();) {
    auto name = sv(it->name_string());
    const bool strip = is_spoofable(name) || (!keep_upgrade && is_hop_by_hop(name));
    it = strip ? fields.erase(it) : std::next(it);
  }
}

// A header value from IdP claims: control characters would break the header.
std::string header_safe(std::string_view text) {
  std::string out;
  for (char c : text) {
    if (static_cast<unsigned char>(c) >= 0x20 && c != 0x7f) out += c;
  }
  return out;
}

}  // namespace

bool is_plausible_app_segment(std::string_view s) {
  if (s.empty() || s.size() > 63) return false;
  for (char c : s) {
    if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-')) return false;
  }
  return true;
}

// One proxied request, from its parsed header to the end of the response
// (or of the WebSocket). Runs on the client connection's executor.
class Exchange : public std::enable_shared_from_this<Exchange> {
 public:
  Exchange(const ProxyHandler::Deps& deps, std::shared_ptr<http::Connection> conn,
           http::HeaderParser& parser)
      : deps_(deps), conn_(std::move(conn)), header_parser_(parser), upstream_(deps_.io) {}

  ~Exchange() {
    if (counted_) deps_.workers.request_finished(worker_.id);
  }

  void run();

 private:
  // Runs `work` where it may block: inline when the data plane's state is in
  // this process (it never waits for I/O), else on the lookup pool; then
  // `then` on this connection's executor.
  // (Templates rather than std::function: the usual, local case then
  // allocates nothing.)
  template <class Work, class Then>
  void with_state(Work work, Then then);
  void with_route(std::shared_ptr<const AppRoute> route);
  void open_session();
  void session_opened();
  void respond(int status, std::string content_type, std::string body,
               std::vector<std::pair<std::string, std::string>> extra = {});
  void respond_failure(ProxyFailure failure);
  void serve_ready_endpoint();
  void identify_caller();
  void identified(auth::SessionCheck check);
  void with_caller();
  bool authorize();
  std::string owner_sub() const { return caller_ ? caller_->sub : std::string(); }
  template <class Fields>
  void add_set_cookies(Fields& fields);
  void proceed_with_worker();
  void forward();
  void forward_http();
  void send_request();
  void write_request_header();
  void request_sent(beast::error_code ec);
  bool retry_on_new_connection();
  bool retryable() const;
  void relay_response();
  void write_buffered_response(std::size_t body_size, bool upstream_keep_alive);
  void relay_injected_page(bool upstream_keep_alive);
  void forward_websocket();
  void forward_resilient_websocket(ResumeQuery resume);
  std::string upstream_target() const { return rest_ + (query_.empty() ? "" : "?" + query_); }
  // The identity and forwarding headers for the worker, each through
  // put(name, value); the client's own were stripped (strip_headers).
  template <class Put>
  void put_proxy_headers(std::string_view host, Put put);
  template <class Fields>
  void add_proxy_headers(Fields& fields);
  void append_proxy_header_lines(std::string& wire);
  std::string session_cookie() const;
  template <class Then>
  void connect_upstream(Then then);

  ProxyHandler::Deps deps_;
  std::shared_ptr<http::Connection> conn_;
  http::HeaderParser& header_parser_;
  std::optional<bhttp::request_parser<bhttp::buffer_body>> request_parser_;
  bhttp::request<bhttp::empty_body> upgrade_request_;
  std::optional<bhttp::response_parser<bhttp::buffer_body>> response_parser_;
  std::optional<bhttp::response_parser<bhttp::string_body>> page_parser_;
  std::optional<bhttp::response_parser<bhttp::empty_body>> upgrade_response_parser_;
  UpstreamSocket upstream_;
  bool upstream_reused_ = false;
  bool retried_ = false;  // sent again on a new connection (retry_on_new_connection)
  bool gave_up_ = false;  // the deadline passed before the worker answered
  beast::flat_buffer upstream_buffer_;
  std::string wire_;  // a header written by fast_write.h, kept until the write ends

  // The app and its grants, shared with the resolver's cache (not copied).
  std::shared_ptr<const AppRoute> route_;
  const store::App& app() const { return *route_->app; }
  std::string segment_;
  std::string rest_;
  std::string query_;
  std::string session_id_;
  bool new_session_ = false;
  WorkerView worker_;
  std::optional<WorkerView> existing_;  // the cookie's session, as with_state() read it
  std::optional<NewSession> opened_;    // set by open_session(), or:
  ProxyFailure open_failure_ = ProxyFailure::start_failed;  // why it could not open one
  bool keep_alive_ = true;
  bool wants_html_ = false;    // Accept mentions text/html (read before the header is moved)
  bool body_unread_ = false;   // an error answer now would leave request bytes unread
  bool counted_ = false;       // request_started() was called; the destructor balances it
  bool page_request_ = false;  // a GET for HTML: the answer may get the resilient-socket script
  std::optional<auth::Caller> caller_;  // the signed-in user, if any
  authz::Relation relation_ = authz::Relation::anonymous;
  std::vector<std::string> auth_cookies_;  // e.g. expiring a stale sign-in cookie
};

void Exchange::respond(int status, std::string content_type, std::string body,
                       std::vector<std::pair<std::string, std::string>> extra) {
  http::Response r;
  r.status = status;
  r.headers.set("Content-Type", std::move(content_type));
  r.headers.set("Cache-Control", "no-store");
  for (auto& [k, v] : extra) r.headers.add(std::move(k), std::move(v));
  if (new_session_) r.headers.add("Set-Cookie", session_cookie());
  for (const auto& c : auth_cookies_) r.headers.add("Set-Cookie", c);
  r.body = std::move(body);
  // A request body we did not read would corrupt the next request.
  if (body_unread_) conn_->linger_on_close();
  conn_->send(std::move(r), keep_alive_ && !body_unread_);
}

void Exchange::respond_failure(ProxyFailure failure) {
  http::Response page = http::error_response(wants_html_, user_error(failure));
  std::vector<std::pair<std::string, std::string>> extra;
  if (int seconds = retry_after_seconds(failure)) {
    extra.emplace_back("Retry-After", std::to_string(seconds));
  }
  respond(page.status, page.headers.get("Content-Type").value_or(""), std::move(page.body),
          std::move(extra));
}

std::string Exchange::session_cookie() const {
  std::string cookie = std::string(kRouteCookie) + "=" + session_id_ + "; Path=/app/" + segment_ +
                       "/; HttpOnly; SameSite=Lax";
  if (deps_.config.server.external_url.starts_with("https://")) cookie += "; Secure";
  auto ttl = std::chrono::duration_cast<std::chrono::seconds>(deps_.config.proxy.session_idle_ttl);
  if (ttl.count() > 0) cookie += "; Max-Age=" + std::to_string(ttl.count());
  return cookie;
}

void Exchange::run() {
  // The connection's deadline for reading the header ends here: a new session
  // may wait for its worker (which fails after worker_start_timeout), and the
  // request and response then have http_forward_timeout.
  conn_->deadline().expires_after(deps_.config.proxy.worker_start_timeout +
                                  deps_.config.proxy.http_forward_timeout);
  const auto& req = header_parser_.get();
  keep_alive_ = req.keep_alive();
  wants_html_ = accepts_html(req);
  body_unread_ = !header_parser_.is_done();
  const std::string_view target = sv(req.target());
  auto qpos = target.find('?');
  if (qpos != std::string_view::npos) query_ = target.substr(qpos + 1);

  // The raw path is "/app", "/app/", "/app/<segment>" or "/app/<segment>/<rest>".
  // Split it before decoding, so the rest is forwarded exactly as the client
  // sent it (still percent-encoded) and an encoded "/" cannot move the split.
  const std::string_view raw_path = target.substr(0, qpos);
  const std::string_view after = raw_path.size() > 5 ? raw_path.substr(5) : std::string_view();
  auto slash = after.find('/');
  segment_ = http::url_decode(after.substr(0, slash));
  if (segment_.empty()) return respond_failure(ProxyFailure::app_not_found);
  if (slash == std::string_view::npos) {
    if (!is_plausible_app_segment(segment_)) return respond_failure(ProxyFailure::app_not_found);
    std::string location = "/app/" + segment_ + "/" + (query_.empty() ? "" : "?" + query_);
    return respond(301, "text/plain; charset=utf-8", "", {{"Location", location}});
  }
  rest_ = after.substr(slash);

  // By id, then current name, then a former name (rename alias). A cached
  // answer is used here; a miss reads the store on the lookup pool.
  if (auto route = deps_.apps.cached(segment_)) return with_route(std::move(route));
  const bool posted = deps_.lookups.post([self = shared_from_this()] {
    std::shared_ptr<const AppRoute> route;
    try {
      route = self->deps_.apps.resolve(self->segment_);
    } catch (const std::exception& e) {
      spdlog::error("proxy: app lookup failed: {}", e.what());
    }
    asio::post(self->conn_->socket().get_executor(), [self, route = std::move(route)]() mutable {
      if (!route) return self->respond_failure(ProxyFailure::internal);
      self->with_route(std::move(route));
    });
  });
  if (!posted) respond_failure(ProxyFailure::shutting_down);
}

template <class Work, class Then>
void Exchange::with_state(Work work, Then then) {
  if (deps_.workers.state_is_local()) {
    work();
    return then();
  }
  const bool posted = deps_.lookups.post(
      [self = shared_from_this(), work = std::move(work), then = std::move(then)]() mutable {
        work();
        asio::post(self->conn_->socket().get_executor(), std::move(then));
      });
  if (!posted) respond_failure(ProxyFailure::shutting_down);
}

void Exchange::with_route(std::shared_ptr<const AppRoute> route) {
  const auto& [app, alias, grants] = *route;
  if (!app) return respond_failure(ProxyFailure::app_not_found);
  if (alias && alias->phase == "redirect") {
    // Past the alias window: send clients (and bookmarks) to the new name.
    std::string location = "/app/" + app->name + rest_ + (query_.empty() ? "" : "?" + query_);
    return respond(301, "text/plain; charset=utf-8", "", {{"Location", location}});
  }
  route_ = std::move(route);
  identify_caller();
}

// With [oidc] and a sign-in cookie: who the caller is. A cached answer is
// used here; a miss reads the store on the lookup pool.
void Exchange::identify_caller() {
  std::optional<std::string> value;
  if (deps_.sessions != nullptr)
    value = auth::find_cookie(sv(header_parser_.get()[bhttp::field::cookie]), auth::kSessionCookie);
  if (!value) return with_caller();
  if (auto check = deps_.sessions->check_cached(*value)) return identified(std::move(*check));
  const bool posted = deps_.lookups.post([self = shared_from_this(), value = std::move(*value)] {
    std::optional<auth::SessionCheck> check;
    try {
      check = self->deps_.sessions->check(value, auth::BrowserSessions::Clock::now(),
                                          auth::BrowserSessions::RefreshMode::background);
    } catch (const std::exception& e) {
      spdlog::error("proxy: sign-in lookup failed: {}", e.what());
    }
    asio::post(self->conn_->socket().get_executor(), [self, check = std::move(check)]() mutable {
      if (!check) return self->respond_failure(ProxyFailure::internal);
      self->identified(std::move(*check));
    });
  });
  if (!posted) respond_failure(ProxyFailure::shutting_down);
}

void Exchange::identified(auth::SessionCheck check) {
  caller_ = std::move(check.caller);
  if (check.clear_cookie) auth_cookies_.push_back(deps_.sessions->clear_cookie_header());
  with_caller();
}

void Exchange::with_caller() {
  // Who may use it before whether it is enabled: a disabled app stays
  // invisible to those who may not see it.
  if (!authorize()) return;
  if (!app().enabled) return respond_failure(ProxyFailure::app_disabled);

  if (rest_.starts_with("/__blockyard/")) {
    if (rest_ == "/__blockyard/ready") return serve_ready_endpoint();
    return respond_failure(ProxyFailure::app_not_found);
  }

  auto cookie = find_cookie(sv(header_parser_.get()[bhttp::field::cookie]), kRouteCookie);
  if (!cookie) return open_session();
  session_id_ = std::move(*cookie);
  with_state(
      [this] { existing_ = deps_.workers.session_worker(session_id_, app().id, owner_sub()); },
      [self = shared_from_this()] {
        if (!self->existing_ || self->existing_->state == WorkerState::failed) {
          return self->open_session();
        }
        self->worker_ = std::move(*self->existing_);
        self->proceed_with_worker();
      });
}

// A new session, with a worker of its own.
void Exchange::open_session() {
  if (!app().active_bundle) return respond_failure(ProxyFailure::not_published);
  // Each new session starts an R worker: that is what the per-client limit
  // counts (a session's own requests never reach here).
  if (auto* limits = conn_->rate_limits()) {
    const auto& req = header_parser_.get();
    const std::string client =
        limits->client_of(conn_->peer_ip(), http::forwarded_for(req), sv(req["X-Real-IP"]));
    if (auto refusal = limits->admit_new_session(client, wants_html_)) {
      if (body_unread_) conn_->linger_on_close();
      return conn_->send(std::move(*refusal), keep_alive_ && !body_unread_);
    }
  }
  with_state(
      [this] {
        auto bundle_dir = std::filesystem::path(deps_.config.storage.bundle_server_path) /
                          app().id / *app().active_bundle;
        try {
          SessionOwner owner;
          if (caller_) owner = SessionOwner{caller_->sub, caller_->session_id};
          opened_ =
              deps_.workers.open_session(app(), *app().active_bundle, bundle_dir.string(), owner);
        } catch (const CapacityError& e) {
          open_failure_ = capacity_failure(e.what());
        } catch (const std::exception& e) {
          spdlog::error("proxy: new session of app {}: {}", app().name, e.what());
          open_failure_ = ProxyFailure::start_failed;
        }
      },
      [self = shared_from_this()] { self->session_opened(); });
}

void Exchange::session_opened() {
  if (!opened_) return respond_failure(open_failure_);
  session_id_ = opened_->session_id;
  worker_ = opened_->worker;
  if (worker_.state != WorkerState::starting) {
    new_session_ = true;
    return proceed_with_worker();
  }
  // The backend starts the worker on its own threads; answer once it has
  // (or failed to), without holding this connection's thread meanwhile.
  deps_.workers.when_spawned(worker_.id, [self = shared_from_this()](bool spawned) {
    asio::post(self->conn_->socket().get_executor(), [self, spawned] {
      if (!spawned) return self->respond_failure(ProxyFailure::start_failed);
      self->new_session_ = true;
      self->proceed_with_worker();
    });
  });
}

void Exchange::serve_ready_endpoint() {
  auto cookie = find_cookie(sv(header_parser_.get()[bhttp::field::cookie]), kRouteCookie);
  with_state(
      [this, cookie] {
        if (cookie) existing_ = deps_.workers.session_worker(*cookie, app().id, owner_sub());
      },
      [self = shared_from_this()] {
        nlohmann::json state = {{"ready", false}};
        const auto& view = self->existing_;
        if (!view) {
          state["restart"] = true;  // no session (expired or never made): reload to get one
        } else if (view->state == WorkerState::failed) {
          state["failed"] = true;
          state["message"] = user_start_failure(view->failure);
          // The reason and R's output are for the app's publishers only: an
          // app user sees one plain sentence.
          if (authz::can_deploy(self->relation_)) {
            state["reason"] = view->failure;
            auto log = self->deps_.workers.worker_log(self->app().id, view->id);
            state["log"] = log ? log->tail(kFailureLogLines) : std::vector<std::string>{};
          }
        } else if (view->state != WorkerState::starting) {
          state["ready"] = true;
        }
        self->respond(200, "application/json", state.dump());
      });
}

void Exchange::proceed_with_worker() {
  if (worker_.state != WorkerState::starting) return forward();
  const auto& req = header_parser_.get();
  if (req.method() == bhttp::verb::get && wants_html_ &&
      !http::iequals(sv(req[bhttp::field::upgrade]), "websocket")) {
    auto timeout = deps_.config.proxy.worker_start_timeout + std::chrono::seconds(10);
    std::string name = app().title && !app().title->empty() ? *app().title : app().name;
    return respond(200, "text/html; charset=utf-8",
                   render_loading_page(name, "/app/" + segment_ + "/", timeout.count()));
  }
  // Non-browser clients wait for the worker.
  deps_.workers.when_ready(worker_.id, [self = shared_from_this()](bool ready) {
    asio::post(self->conn_->socket().get_executor(), [self, ready] {
      if (!ready) return self->respond_failure(ProxyFailure::start_failed);
      self->with_state(
          [self] {
            self->existing_ = self->deps_.workers.session_worker(self->session_id_, self->app().id,
                                                                 self->owner_sub());
          },
          [self] {
            if (!self->existing_) return self->respond_failure(ProxyFailure::start_failed);
            self->worker_ = *self->existing_;
            self->forward();
          });
    });
  });
}

// What the caller (identify_caller) may do with this app. Without [oidc]
// every visitor is anonymous (no access control at all).
bool Exchange::authorize() {
  if (deps_.sessions == nullptr) return true;
  const auto& req = header_parser_.get();
  // A page of another origin (a sibling of the same site gets the cookie)
  // must not act as the user: no form posts, no WebSocket into their session.
  if (caller_ && (!auth::is_safe_method(sv(req.method_string())) ||
                  http::iequals(sv(req[bhttp::field::upgrade]), "websocket"))) {
    auto header = [&](std::string_view name) -> std::optional<std::string> {
      if (auto it = req.find(beast::string_view(name.data(), name.size())); it != req.end()) {
        return std::string(sv(it->value()));
      }
      return std::nullopt;
    };
    if (!auth::comes_from_own_origin(header("Sec-Fetch-Site"), header("Origin"),
                                     auth::url_origin(deps_.config.server.external_url))) {
      respond(403, "text/plain; charset=utf-8", "cross-site request refused\n");
      return false;
    }
  }
  relation_ = authz::evaluate_access(caller_ ? &*caller_ : nullptr, app(), route_->grants);
  if (authz::can_use_proxy(relation_)) return true;
  if (!caller_) {
    // Sign in, then come back here.
    respond(302, "text/plain; charset=utf-8", "",
            {{"Location", "/login?return_url=" + percent_encode(sv(req.target()), "/")}});
  } else {
    respond_failure(ProxyFailure::app_not_found);
  }
  return false;
}

template <class Fields>
void Exchange::add_set_cookies(Fields& fields) {
  if (new_session_) fields.insert(bhttp::field::set_cookie, session_cookie());
  for (const auto& c : auth_cookies_) fields.insert(bhttp::field::set_cookie, c);
}

template <class Put>
void Exchange::put_proxy_headers(std::string_view host, Put put) {
  put("X-Shiny-Access", authz::shiny_access(relation_));
  if (caller_) {
    put("X-Shiny-User", header_safe(caller_->name));
    if (!caller_->groups.empty()) {
      std::string groups;
      for (const auto& g : caller_->groups) groups += (groups.empty() ? "" : ",") + g;
      put("X-Shiny-Groups", header_safe(groups));
    }
  }
  put("X-Forwarded-For", conn_->peer_ip());
  put("X-Forwarded-Proto",
      deps_.config.server.external_url.starts_with("https://") ? "https" : "http");
  if (!host.empty()) put("X-Forwarded-Host", host);
}

template <class Fields>
void Exchange::add_proxy_headers(Fields& fields) {
  const std::string host(sv(fields[bhttp::field::host]));
  put_proxy_headers(host, [&](std::string_view name, std::string_view value) {
    fields.set(beast::string_view(name.data(), name.size()),
               beast::string_view(value.data(), value.size()));
  });
}

void Exchange::append_proxy_header_lines(std::string& wire) {
  put_proxy_headers(sv(request_parser_->get()[bhttp::field::host]),
                    [&](std::string_view name, std::string_view value) {
                      wire.append(name).append(": ").append(value).append("\r\n");
                    });
}

void Exchange::forward() {
  deps_.workers.request_started(worker_.id);
  counted_ = true;
  body_unread_ = true;  // from here on the header parser is handed over
  if (http::iequals(sv(header_parser_.get()[bhttp::field::upgrade]), "websocket")) {
    // The injected client script asks for a resumable socket; anything else
    // gets the plain byte tunnel.
    if (auto resume = parse_resume_query(query_)) {
      return forward_resilient_websocket(std::move(*resume));
    }
    return forward_websocket();
  }
  forward_http();
}

template <class Then>
void Exchange::connect_upstream(Then then) {
  // A request that can be sent again takes a pooled connection unchecked:
  // should the worker have closed it, retry_on_new_connection() sends it
  // again on a new one, which costs less than a liveness check per request.
  auto pooled = retried_ ? std::nullopt : deps_.upstreams.take(worker_.id, !retryable());
  if (pooled) {
    upstream_ = std::move(*pooled);
    upstream_reused_ = true;
    return then();
  }
  auto endpoint = upstream_endpoint(worker_.endpoint);
  if (!endpoint) {
    spdlog::warn("proxy: worker {} has no usable endpoint \"{}\"", worker_.id,
                 worker_.endpoint.to_string());
    return respond_failure(ProxyFailure::worker_unreachable);
  }
  upstream_.async_connect(
      *endpoint, [self = shared_from_this(), then = std::move(then)](beast::error_code ec) mutable {
        if (ec) {
          spdlog::warn("proxy: cannot reach worker {}: {}", self->worker_.id, ec.message());
          return self->respond_failure(ProxyFailure::worker_unreachable);
        }
        tune_upstream(self->upstream_);
        then();
      });
}

// Request and response bodies stream through fixed buffers in both
// directions; nothing holds a whole body in memory.
void Exchange::forward_http() {
  request_parser_.emplace(std::move(header_parser_));
  request_parser_->body_limit(std::numeric_limits<std::uint64_t>::max());
  auto& req = request_parser_->get();
  strip_headers(req, false);
  req.target(upstream_target());
  req.keep_alive(true);
  // Pages come back uncompressed so the resilient-socket script can go in.
  page_request_ = req.method() == bhttp::verb::get && wants_html_;
  if (page_request_) req.erase(bhttp::field::accept_encoding);
  send_request();
}

void Exchange::send_request() {
  connect_upstream([self = shared_from_this()] {
    if (self->request_parser_->is_done()) return self->write_request_header();
    self->add_proxy_headers(self->request_parser_->get());
    relay_body(self->conn_->socket(), self->conn_->buffer(), *self->request_parser_,
               self->upstream_, [self](beast::error_code ec) { self->request_sent(ec); });
  });
}

// A request without a body (most are): its header in one write.
void Exchange::write_request_header() {
  wire_.clear();
  wire_.reserve(kWireReserve);  // one allocation serves the request and response headers
  append_wire_header_lines(request_parser_->get(), wire_);
  append_proxy_header_lines(wire_);
  wire_ += "\r\n";
  write_fast(upstream_, upstream_.native_handle(),
             std::array{asio::const_buffer(wire_.data(), wire_.size())},
             [self = shared_from_this()](beast::error_code ec) { self->request_sent(ec); });
}

void Exchange::request_sent(beast::error_code ec) {
  if (ec) {
    if (retry_on_new_connection()) return;
    // Nothing was answered yet: tell the client, drop both sides.
    keep_alive_ = false;
    return respond_failure(ProxyFailure::worker_unreachable);
  }
  response_parser_.emplace();
  response_parser_->body_limit(std::numeric_limits<std::uint64_t>::max());
  if (request_parser_->get().method() == bhttp::verb::head) response_parser_->skip(true);
  // At the deadline, let go of the worker (which may never answer, or stall
  // mid-body): its connection closes. Before its response header, the
  // pending read then fails and the client is told (502); after it, there is
  // no answer left to give and the client's connection closes too.
  conn_->on_deadline([weak = weak_from_this()] {
    auto self = weak.lock();
    if (!self) return;
    self->gave_up_ = true;
    beast::error_code ignored;
    self->upstream_.close(ignored);
    if (self->response_parser_->is_header_done()) self->conn_->socket().close(ignored);
  });
  bhttp::async_read_header(
      upstream_, upstream_buffer_, *response_parser_,
      [self = shared_from_this()](beast::error_code ec, std::size_t) {
        if (ec) {
          if (!self->gave_up_ && self->retry_on_new_connection()) return;
          spdlog::warn("proxy: worker {} did not answer: {}", self->worker_.id,
                       self->gave_up_ ? "not within http_forward_timeout" : ec.message());
          self->keep_alive_ = false;
          return self->respond_failure(ProxyFailure::worker_silent);
        }
        self->relay_response();
      });
}

// A worker may close a kept-alive connection just as it is reused (httpuv
// sometimes reads the next request and closes without an answer): a request
// without a body and without side effects is then sent again, once, on a
// new connection, instead of failing with 502.
bool Exchange::retryable() const {
  if (!request_parser_) return false;
  const auto& req = request_parser_->get();
  const bool idempotent = req.method() == bhttp::verb::get || req.method() == bhttp::verb::head ||
                          req.method() == bhttp::verb::options;
  const bool bodyless = !req.chunked() && req.payload_size().value_or(0) == 0;
  return idempotent && bodyless;
}

bool Exchange::retry_on_new_connection() {
  if (!upstream_reused_ || retried_ || !retryable()) return false;
  retried_ = true;
  upstream_reused_ = false;
  beast::error_code ignored;
  upstream_.close(ignored);
  upstream_ = UpstreamSocket(deps_.io);
  upstream_buffer_.clear();
  send_request();
  return true;
}

void Exchange::relay_response() {
  auto& res = response_parser_->get();
  const bool upstream_keep_alive = res.keep_alive();
  // Framing headers (Content-Length, Transfer-Encoding) stay: the serializer
  // writes the body the way the worker framed it.
  for (auto it = res.begin(); it != res.end();) {
    auto name = sv(it->name_string());
    const bool strip = is_hop_by_hop(name) && !http::iequals(name, "transfer-encoding");
    it = strip ? res.erase(it) : std::next(it);
  }
  add_set_cookies(res);
  res.keep_alive(keep_alive_);
  bool has_body = res.result_int() >= 200 && res.result() != bhttp::status::no_content &&
                  res.result() != bhttp::status::not_modified &&
                  request_parser_->get().method() != bhttp::verb::head;
  auto length = response_parser_->content_length();
  const bool whole = !has_body || (length && *length <= upstream_buffer_.size());
  // More of the response is to come, and it may wait for our ACK of what
  // came (ack_promptly): ask for that ACK now. A whole response needs none;
  // its ACK rides on the next request for free.
  if (!whole || res.result_int() < 200) ack_promptly(upstream_);
  if (page_request_ && res.result() == bhttp::status::ok && length &&
      *length <= kMaxInjectedPageBytes &&
      is_injectable_html(sv(res[bhttp::field::content_type]),
                         sv(res[bhttp::field::content_encoding]))) {
    conn_->add_common_headers(res);
    return relay_injected_page(upstream_keep_alive);
  }
  // A final answer whose whole body arrived with its header (most responses
  // of an app: small files, JSON) goes out in one write.
  if (res.result_int() >= 200 && whole) {
    return write_buffered_response(has_body ? static_cast<std::size_t>(*length) : 0,
                                   upstream_keep_alive);
  }
  conn_->add_common_headers(res);
  if (has_body && !res.has_content_length() && !res.chunked()) res.chunked(true);
  relay_body(upstream_, upstream_buffer_, *response_parser_, conn_->socket(),
             [self = shared_from_this(), upstream_keep_alive](beast::error_code ec) {
               if (!ec && upstream_keep_alive && self->response_parser_->is_done()) {
                 self->deps_.upstreams.give(self->worker_.id, std::move(self->upstream_));
               }
               if (ec) {
                 spdlog::debug("proxy: relaying the response of worker {} failed: {}",
                               self->worker_.id, ec.message());
                 return self->conn_->close();
               }
               self->conn_->finish_request(self->keep_alive_);
             });
}

void Exchange::write_buffered_response(std::size_t body_size, bool upstream_keep_alive) {
  // The worker's connection is free once the response is read; bytes beyond
  // it would be taken for the next response, so such a connection goes.
  if (upstream_keep_alive && upstream_buffer_.size() == body_size) {
    deps_.upstreams.give(worker_.id, std::move(upstream_));
  }
  wire_.clear();
  auto& res = response_parser_->get();
  const std::string& common = conn_->common_header_lines(res);
  append_wire_header_lines(res, wire_);
  wire_ += common;
  wire_ += "\r\n";
  auto& socket = conn_->socket();
  write_fast(socket, socket.native_handle(),
             std::array{asio::const_buffer(wire_.data(), wire_.size()),
                        asio::const_buffer(upstream_buffer_.data().data(), body_size)},
             [self = shared_from_this()](beast::error_code ec) {
               if (ec) return self->conn_->close();
               self->conn_->finish_request(self->keep_alive_);
             });
}

// An app page: read it whole (bounded by kMaxInjectedPageBytes), add the
// resilient-socket script, and send it with its new length.
void Exchange::relay_injected_page(bool upstream_keep_alive) {
  page_parser_.emplace(std::move(*response_parser_));
  page_parser_->body_limit(kMaxInjectedPageBytes);
  bhttp::async_read(
      upstream_, upstream_buffer_, *page_parser_,
      [self = shared_from_this(), upstream_keep_alive](beast::error_code ec, std::size_t) {
        if (ec) {
          self->keep_alive_ = false;
          return self->respond_failure(ProxyFailure::worker_silent);
        }
        auto res =
            std::make_shared<bhttp::response<bhttp::string_body>>(self->page_parser_->release());
        if (upstream_keep_alive) {
          self->deps_.upstreams.give(self->worker_.id, std::move(self->upstream_));
        }
        res->body() = inject_before_head_end(res->body(), resilient_client_tag());
        res->prepare_payload();
        res->keep_alive(self->keep_alive_);
        bhttp::async_write(self->conn_->socket(), *res,
                           [self, res](beast::error_code ec, std::size_t) {
                             if (ec) return self->conn_->close();
                             self->conn_->finish_request(self->keep_alive_);
                           });
      });
}

// Hands the browser's socket to a resumable session (resilient_socket.h):
// a new one for blockyard_resume=new, else the held one the token names.
void Exchange::forward_resilient_websocket(ResumeQuery resume) {
  ClientUpgrade client{std::move(conn_->socket()), header_parser_.release(), {}};
  conn_->detach();
  strip_headers(client.request, true);
  add_proxy_headers(client.request);
  add_set_cookies(client.response_fields);
  conn_->add_common_headers(client.response_fields);
  SessionBinding binding{session_id_, app().id, worker_.id};
  if (!resume.fresh) {
    return resume_resilient_session(deps_.io, deps_.resumes, resume.token, resume.last, binding,
                                    std::move(client));
  }
  ResilientOptions options;
  options.hold_ttl =
      std::chrono::duration_cast<std::chrono::milliseconds>(deps_.config.proxy.ws_cache_ttl);
  BackendTarget backend{worker_.endpoint,
                        rest_ + (resume.other_query.empty() ? "" : "?" + resume.other_query)};
  auto workers = &deps_.workers;
  auto worker_id = worker_.id;
  counted_ = false;  // the session reports its end instead
  start_resilient_session(
      deps_.io, deps_.resumes, options, std::move(binding), std::move(backend), std::move(client),
      [workers, worker_id] { workers->request_finished(worker_id); },
      [workers, worker_id] { workers->websocket_opened(worker_id); });
}

void Exchange::forward_websocket() {
  upgrade_request_ = header_parser_.release();
  strip_headers(upgrade_request_, true);
  add_proxy_headers(upgrade_request_);
  upgrade_request_.target(upstream_target());
  connect_upstream([self = shared_from_this()] {
    bhttp::async_write(
        self->upstream_, self->upgrade_request_, [self](beast::error_code ec, std::size_t) {
          if (ec) return self->respond_failure(ProxyFailure::worker_unreachable);
          self->upgrade_response_parser_.emplace();
          bhttp::async_read_header(
              self->upstream_, self->upstream_buffer_, *self->upgrade_response_parser_,
              [self](beast::error_code ec, std::size_t) {
                if (ec) return self->respond_failure(ProxyFailure::worker_silent);
                auto res = std::make_shared<bhttp::response<bhttp::empty_body>>(
                    self->upgrade_response_parser_->release());
                self->add_set_cookies(*res);
                bool upgraded = res->result() == bhttp::status::switching_protocols;
                bhttp::async_write(
                    self->conn_->socket(), *res,
                    [self, res, upgraded](beast::error_code ec, std::size_t) {
                      if (ec || !upgraded) return self->conn_->close();
                      self->deps_.workers.websocket_opened(self->worker_.id);
                      self->conn_->detach();
                      self->conn_->deadline().expires_never();
                      auto workers = &self->deps_.workers;
                      auto worker_id = self->worker_.id;
                      self->counted_ = false;  // the tunnel reports the end instead
                      auto tunnel = std::make_shared<Tunnel>(
                          self->conn_->socket(), self->conn_, std::move(self->upstream_),
                          [workers, worker_id] { workers->request_finished(worker_id); });
                      tunnel->start(self->conn_->buffer(), self->upstream_buffer_);
                    });
              });
        });
  });
}

ProxyHandler::ProxyHandler(asio::io_context& io, const Config& config, store::Store& store,
                           WorkerManager& workers, auth::BrowserSessions* sessions)
    : apps_(store),
      deps_{io, config, store, workers, upstreams_, resumes_, apps_, lookups_, sessions},
      // What this handler keeps per worker goes when the worker does.
      worker_ended_(workers.on_worker_ended([this](const WorkerEnded& e) {
        upstreams_.drop(e.worker_id);
        resumes_.drop_worker(e.worker_id);
      })) {}

void ProxyHandler::handle(std::shared_ptr<http::Connection> conn, http::HeaderParser& parser) {
  std::make_shared<Exchange>(deps_, std::move(conn), parser)->run();
}

}  // namespace blockyard::proxy
