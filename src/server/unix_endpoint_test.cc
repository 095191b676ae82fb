// The data plane over a worker that serves on a Unix domain socket, end to
// end: the real HTTP server, proxy handler and worker manager in front of a
// real R process (httpuv) listening on a socket file. The readiness probe,
// HTTP forwarding (with pooled connections), the WebSocket tunnel and the
// resumable WebSocket all reach it through its Endpoint, never a host/port
// of their own. The process backend serves workers on TCP; this test's
// backend starts the same R server on a socket file instead (no sandbox: the
// sandbox has its own tests).
#include <gtest/gtest.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/websocket.hpp>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <mutex>
#include <optional>
#include <set>
#include <thread>

#include "backend/backend.h"
#include "backend/process/http_probe.h"
#include "backend/process/worker_process.h"
#include "core/config.h"
#include "http/router.h"
#include "http/server.h"
#include "proxy/proxy_handler.h"
#include "proxy/resume_protocol.h"
#include "proxy/worker_manager.h"
#include "state/memory_session_store.h"
#include "state/memory_worker_map.h"
#include "store/store.h"

namespace blockyard::server {
namespace {

namespace fs = std::filesystem;
namespace asio = boost::asio;
namespace beast = boost::beast;
namespace bhttp = beast::http;
namespace websocket = beast::websocket;
using asio::ip::tcp;
using namespace std::chrono_literals;

// httpuv on a socket file: GET answers "unix <path>" (GET /slow?s=N after N
// seconds, followed by 1 MiB of "x"), a WebSocket echoes.
constexpr const char* kServerScript = R"(
path <- commandArgs(trailingOnly = TRUE)[1]
app <- list(
  call = function(req) {
    body <- paste0("unix ", req$PATH_INFO, "\n")
    if (req$PATH_INFO == "/slow") {
      Sys.sleep(as.numeric(sub(".*s=", "", req$QUERY_STRING)))
      body <- paste0(body, strrep("x", 1024 * 1024))
    }
    list(status = 200L, headers = list("Content-Type" = "text/plain"), body = body)
  },
  onWSOpen = function(ws) ws$onMessage(function(binary, message) ws$send(message)))
server <- httpuv::startPipeServer(path, strtoi("077", 8L), app)
while (TRUE) httpuv::service(100)
)";

// A backend whose workers are that R server, each on a socket file of its own.
class UnixSocketBackend final : public backend::Backend {
 public:
  explicit UnixSocketBackend(fs::path dir) : dir_(std::move(dir)) {
    std::ofstream(dir_ / "server.R") << kServerScript;
  }
  ~UnixSocketBackend() override { stop_all(2000); }

  Endpoint spawn(const backend::WorkerSpec& spec) override {
    const fs::path socket = dir_ / (spec.worker_id.substr(0, 8) + ".sock");
    backend::process::ProcessOptions run;
    run.argv = {"/usr/bin/Rscript", (dir_ / "server.R").string(), socket.string()};
    run.env = {"PATH=/usr/bin:/bin", "HOME=/tmp", "LANG=C.UTF-8"};
    run.log = spec.log;
    run.on_exit = spec.on_exit;
    auto process = backend::process::WorkerProcess::start(std::move(run));
    std::lock_guard lock(mu_);
    workers_[spec.worker_id] = {std::move(process), Endpoint::unix_socket(socket.string())};
    return workers_[spec.worker_id].endpoint;
  }
  void stop(const std::string& worker_id, int) override {
    std::unique_ptr<backend::process::WorkerProcess> process;
    {
      std::lock_guard lock(mu_);
      auto it = workers_.find(worker_id);
      if (it == workers_.end()) return;
      process = std::move(it->second.process);
      workers_.erase(it);
    }
    process->signal(SIGTERM);
    process->wait_finished(5s);
  }
  bool health_check(const std::string& worker_id) override {
    Endpoint endpoint;
    {
      std::lock_guard lock(mu_);
      auto it = workers_.find(worker_id);
      if (it == workers_.end()) return false;
      endpoint = it->second.endpoint;
    }
    return backend::process::http_responds(endpoint, 1000ms);
  }
  std::optional<backend::WorkerStatus> status(const std::string&) override { return std::nullopt; }
  std::vector<backend::WorkerStatus> list_managed() override { return {}; }
  std::shared_ptr<LineLog> logs(const std::string&) override { return nullptr; }
  void stop_all(int grace_ms) override {
    std::vector<std::string> ids;
    {
      std::lock_guard lock(mu_);
      for (const auto& [id, w] : workers_) ids.push_back(id);
    }
    for (const auto& id : ids) stop(id, grace_ms);
  }

 private:
  struct Worker {
    std::unique_ptr<backend::process::WorkerProcess> process;
    Endpoint endpoint;
  };
  const fs::path dir_;
  std::mutex mu_;
  std::map<std::string, Worker> workers_;
};

// A worker of this process on a socket file: answers every request (but
// GET /silent) "ok" on a kept-alive connection (in one write, with security headers of its
// own that the proxy must replace) and counts the connections open to it, so
// a test sees whether the proxy still holds one.
class CountingWorker {
 public:
  explicit CountingWorker(const fs::path& socket) : socket_(socket) {
    listener_ = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    std::snprintf(addr.sun_path, sizeof addr.sun_path, "%s", socket.c_str());
    if (::bind(listener_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 ||
        ::listen(listener_, 16) != 0)
      throw std::runtime_error("counting worker: cannot listen on " + socket.string());
    acceptor_ = std::thread([this] { accept_loop(); });
  }
  ~CountingWorker() {
    stopping_ = true;
    {
      std::lock_guard lock(mu_);
      for (int fd : open_) ::shutdown(fd, SHUT_RDWR);
    }
    acceptor_.join();
    for (auto& t : connections_) t.join();
    ::close(listener_);
    fs::remove(socket_);
  }
  int open_connections() {
    std::lock_guard lock(mu_);
    return static_cast<int>(open_.size());
  }
  int open_silent_connections() {
    std::lock_guard lock(mu_);
    return static_cast<int>(silent_.size());
  }
  int accepted() {
    std::lock_guard lock(mu_);
    return accepted_;
  }
  // Closes every connection, as a server does with idle kept-alive ones.
  void close_connections() {
    std::lock_guard lock(mu_);
    for (int fd : open_) ::shutdown(fd, SHUT_RDWR);
  }

 private:
  void accept_loop() {
    while (!stopping_) {
      // Polled, so that the destructor's stopping_ is seen without a
      // connection (the socket file may be gone by then).
      pollfd ready{listener_, POLLIN, 0};
      if (::poll(&ready, 1, 50) <= 0) continue;
      const int fd = ::accept4(listener_, nullptr, nullptr, SOCK_CLOEXEC);
      if (fd < 0) continue;
      std::lock_guard lock(mu_);
      ++accepted_;
      open_.insert(fd);
      connections_.emplace_back([this, fd] { serve(fd); });
    }
  }
  void serve(int fd) {
    static constexpr std::string_view kAnswer =
        "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nX-Frame-Options: SAMEORIGIN\r\n"
        "x-content-type-options: maybe\r\nConnection: keep-alive\r\nContent-Length: 3\r\n\r\nok\n";
    std::string pending;
    char buffer[4096];
    ssize_t n;
    while ((n = ::read(fd, buffer, sizeof buffer)) > 0) {
      pending.append(buffer, static_cast<std::size_t>(n));
      for (auto end = pending.find("\r\n\r\n"); end != std::string::npos;
           end = pending.find("\r\n\r\n")) {
        const bool silent = pending.starts_with("GET /silent ");
        const bool stall = pending.starts_with("GET /stall ");
        pending.erase(0, end + 4);  // requests without a body
        // A hung app: reads, never answers (or stops mid-body).
        if (silent || stall) {
          static constexpr std::string_view kPartial =
              "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 10\r\n\r\npar";
          if (stall && ::write(fd, kPartial.data(), kPartial.size()) < 0) break;
          std::lock_guard lock(mu_);
          silent_.insert(fd);
          continue;
        }
        if (::write(fd, kAnswer.data(), kAnswer.size()) < 0) break;
      }
    }
    std::lock_guard lock(mu_);
    open_.erase(fd);
    silent_.erase(fd);
    ::close(fd);
  }

  const fs::path socket_;
  int listener_ = -1;
  std::atomic<bool> stopping_{false};
  std::mutex mu_;
  std::set<int> open_;
  std::set<int> silent_;  // open connections that carried a GET /silent or /stall
  int accepted_ = 0;
  std::vector<std::thread> connections_;
  std::thread acceptor_;
};

// A backend whose workers are CountingWorkers (always healthy).
class CountingBackend final : public backend::Backend {
 public:
  explicit CountingBackend(fs::path dir) : dir_(std::move(dir)) {}

  Endpoint spawn(const backend::WorkerSpec& spec) override {
    const fs::path socket = dir_ / (spec.worker_id.substr(0, 8) + ".sock");
    std::lock_guard lock(mu_);
    workers_[spec.worker_id] = std::make_shared<CountingWorker>(socket);
    return Endpoint::unix_socket(socket.string());
  }
  // Stopped workers stay reachable: the test asks whether the proxy let go.
  void stop(const std::string&, int) override {}
  bool health_check(const std::string&) override { return true; }
  std::optional<backend::WorkerStatus> status(const std::string&) override { return std::nullopt; }
  std::vector<backend::WorkerStatus> list_managed() override { return {}; }
  std::shared_ptr<LineLog> logs(const std::string&) override { return nullptr; }
  void stop_all(int) override {}

  std::shared_ptr<CountingWorker> worker(const std::string& id) {
    std::lock_guard lock(mu_);
    auto it = workers_.find(id);
    return it == workers_.end() ? nullptr : it->second;
  }

 private:
  const fs::path dir_;
  std::mutex mu_;
  std::map<std::string, std::shared_ptr<CountingWorker>> workers_;
};

class UnixEndpointTest : public ::testing::Test {
 protected:
  // The backend under test; the default runs R workers.
  virtual std::unique_ptr<backend::Backend> make_backend() {
    return std::make_unique<UnixSocketBackend>(dir_);
  }
  virtual bool needs_r() const { return true; }

  void SetUp() override {
    if (needs_r() && !fs::exists("/usr/bin/Rscript")) GTEST_SKIP() << "needs /usr/bin/Rscript";
    dir_ = fs::temp_directory_path() / ("by-unix-endpoint-" + std::to_string(::getpid()));
    fs::remove_all(dir_);
    fs::create_directories(dir_ / "bundles" / "app" / "b1");
    store_ = store::open_sqlite_store(dir_ / "by.db");
    const std::string now = store::now_rfc3339();
    store::App app = store_->create_app("echo", "admin", now);
    store::Bundle bundle;
    bundle.id = "b1";
    bundle.app_id = app.id;
    bundle.uploaded_at = now;
    store_->create_bundle(bundle);
    store_->activate_bundle(app.id, "b1", now);
    config_.storage.bundle_server_path = (dir_ / "bundles").string();
    config_.proxy.worker_start_timeout = 60s;

    backend_ = make_backend();
    workers_ = std::make_unique<proxy::WorkerManager>(*backend_, sessions_, map_, config_, 2);
    http::ServerOptions options;
    options.bind = "127.0.0.1:0";
    options.upload_dir = dir_ / "uploads";
    options.io_threads = 2;
    options.version = "0.0.0-test";
    auto data_plane = std::make_shared<proxy::ProxyHandler>(io_, config_, *store_, *workers_);
    server_ = std::make_unique<http::HttpServer>(io_, options, router_, data_plane);
    server_->listen();
    const std::string address = server_->local_address();
    port_ = static_cast<unsigned short>(std::stoi(address.substr(address.rfind(':') + 1)));
    for (int i = 0; i < 2; ++i) threads_.emplace_back([this] { io_.run(); });
  }

  void TearDown() override {
    if (!server_) return;
    server_->stop_accepting();
    workers_->shutdown();
    io_.stop();
    for (auto& t : threads_) t.join();
    server_.reset();
    fs::remove_all(dir_);
  }

  // One GET through the proxy on a connection of its own; returns the
  // response (a non-browser client waits for a starting worker).
  bhttp::response<bhttp::string_body> get(const std::string& target) {
    asio::io_context io;
    beast::tcp_stream stream(io);
    stream.connect(tcp::endpoint(asio::ip::make_address("127.0.0.1"), port_));
    bhttp::request<bhttp::empty_body> req{bhttp::verb::get, target, 11};
    req.set(bhttp::field::host, "127.0.0.1");
    req.set(bhttp::field::accept, "*/*");
    if (!cookie_.empty()) req.set(bhttp::field::cookie, cookie_);
    bhttp::write(stream, req);
    beast::flat_buffer buffer;
    bhttp::response<bhttp::string_body> res;
    stream.expires_after(90s);
    beast::error_code ec;
    bhttp::read(stream, buffer, res, ec);
    if (ec) ADD_FAILURE() << "GET " << target << ": " << ec.message();
    std::string set_cookie(res[bhttp::field::set_cookie]);
    if (!set_cookie.empty()) cookie_ = set_cookie.substr(0, set_cookie.find(';'));
    return res;
  }

  // A WebSocket through the proxy, handshake done.
  std::unique_ptr<websocket::stream<beast::tcp_stream>> open_websocket(asio::io_context& io,
                                                                       const std::string& target) {
    auto ws = std::make_unique<websocket::stream<beast::tcp_stream>>(io);
    beast::get_lowest_layer(*ws).connect(tcp::endpoint(asio::ip::make_address("127.0.0.1"), port_));
    ws->set_option(
        websocket::stream_base::decorator([cookie = cookie_](websocket::request_type& req) {
          req.set(bhttp::field::cookie, cookie);
        }));
    beast::get_lowest_layer(*ws).expires_after(30s);
    websocket::response_type res;
    beast::error_code ec;
    ws->handshake(res, "127.0.0.1", target, ec);
    if (ec) ADD_FAILURE() << "WebSocket " << target << ": " << ec.message() << "\n" << res;
    return ws;
  }

  fs::path dir_;
  Config config_;
  std::unique_ptr<store::Store> store_;
  state::MemorySessionStore sessions_;
  state::MemoryWorkerMap map_;
  std::unique_ptr<backend::Backend> backend_;
  std::unique_ptr<proxy::WorkerManager> workers_;
  http::Router router_;
  asio::io_context io_;
  std::unique_ptr<http::HttpServer> server_;
  std::vector<std::thread> threads_;
  unsigned short port_ = 0;
  std::string cookie_;
};

TEST_F(UnixEndpointTest, HttpWebSocketAndResumableSocketReachAWorkerOnASocketFile) {
  // Readiness is probed over the socket file; the request waits for it.
  auto first = get("/app/echo/hello");
  ASSERT_EQ(first.result_int(), 200) << first.body();
  EXPECT_EQ(first.body(), "unix /hello\n");
  ASSERT_FALSE(cookie_.empty());
  auto workers = map_.all();
  ASSERT_EQ(workers.size(), 1u);
  EXPECT_TRUE(workers[0].endpoint.is_unix()) << workers[0].endpoint.to_string();

  // Kept-alive worker connections are pooled and reused.
  for (int i = 0; i < 20; ++i) {
    auto again = get("/app/echo/again?n=" + std::to_string(i));
    ASSERT_EQ(again.result_int(), 200);
    EXPECT_EQ(again.body(), "unix /again\n");
  }
  EXPECT_EQ(map_.count(), 1) << "the session kept its worker";

  asio::io_context io;
  {
    // The plain WebSocket tunnel.
    auto ws = open_websocket(io, "/app/echo/ws");
    ws->text(true);
    ws->write(asio::buffer(std::string("over the tunnel")));
    beast::flat_buffer buffer;
    ws->read(buffer);
    EXPECT_EQ(beast::buffers_to_string(buffer.data()), "over the tunnel");
    beast::error_code ignored;  // httpuv closes without a close frame of its own
    ws->close(websocket::close_code::normal, ignored);
  }
  {
    // A resumable socket: the proxy terminates it and opens its own
    // WebSocket to the worker.
    auto ws = open_websocket(io, "/app/echo/ws?blockyard_resume=new");
    beast::flat_buffer buffer;
    ws->read(buffer);
    const std::string hello = beast::buffers_to_string(buffer.data());
    ASSERT_FALSE(hello.empty());
    EXPECT_EQ(hello[0], proxy::kControlMark) << hello;
    EXPECT_NE(hello.find("\"hello\""), std::string::npos) << hello;
    ws->binary(true);
    ws->write(asio::buffer(std::string("resumable")));
    std::string echoed;
    for (int frames = 0; frames < 10 && echoed.empty(); ++frames) {
      buffer.consume(buffer.size());
      ws->read(buffer);
      std::string frame = beast::buffers_to_string(buffer.data());
      if (ws->got_binary()) echoed = frame;  // control frames are text
    }
    EXPECT_EQ(echoed, "resumable");
    beast::error_code ignored;
    ws->close(websocket::close_code::normal, ignored);
  }
}

// A response may take longer than the 30 s the server gives a client to
// send its request header: the data plane's own deadline applies instead.
TEST_F(UnixEndpointTest, ASlowResponseIsNotCutAtTheHeaderDeadline) {
  auto slow = get("/app/echo/slow?s=32");
  EXPECT_EQ(slow.result_int(), 200);
  EXPECT_EQ(slow.body(), "unix /slow\n" + std::string(1024 * 1024, 'x'));
}

class WorkerEndTest : public UnixEndpointTest {
 protected:
  std::unique_ptr<backend::Backend> make_backend() override {
    return std::make_unique<CountingBackend>(dir_);
  }
  bool needs_r() const override { return false; }
  CountingBackend& counting() { return static_cast<CountingBackend&>(*backend_); }
};

// The proxy's idle keep-alive connections to a worker go when the worker
// ends (the "worker ended" event), instead of staying open for good.
TEST_F(WorkerEndTest, AnEndedWorkersPooledConnectionsAreClosed) {
  for (int i = 0; i < 3; ++i) {
    auto res = get("/app/echo/x");
    ASSERT_EQ(res.result_int(), 200) << res.body();
    EXPECT_EQ(res.body(), "ok\n");
  }
  auto workers = map_.all();
  ASSERT_EQ(workers.size(), 1u);
  auto worker = counting().worker(workers[0].id);
  ASSERT_TRUE(worker);
  EXPECT_GE(worker->open_connections(), 1) << "kept alive in the proxy's pool";

  workers_->stop_app_workers(workers[0].app_id);
  const auto deadline = std::chrono::steady_clock::now() + 10s;
  while (worker->open_connections() > 0 && std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(10ms);
  EXPECT_EQ(worker->open_connections(), 0) << "the pool still holds a connection to it";
}

// A pooled connection is taken without a liveness check for a request that
// can be sent again: when the worker has closed it meanwhile, the GET goes
// again on a new connection and the client never sees the closed one.
TEST_F(WorkerEndTest, AGetOnAPooledConnectionTheWorkerClosedIsSentAgain) {
  ASSERT_EQ(get("/app/echo/x").result_int(), 200);
  auto workers = map_.all();
  ASSERT_EQ(workers.size(), 1u);
  auto worker = counting().worker(workers[0].id);
  ASSERT_TRUE(worker);
  ASSERT_EQ(worker->open_connections(), 1) << "one kept-alive connection in the pool";

  worker->close_connections();
  const auto deadline = std::chrono::steady_clock::now() + 10s;
  while (worker->open_connections() > 0 && std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(10ms);
  ASSERT_EQ(worker->open_connections(), 0);

  auto res = get("/app/echo/y");
  EXPECT_EQ(res.result_int(), 200) << res.body();
  EXPECT_EQ(res.body(), "ok\n");
  EXPECT_EQ(worker->accepted(), 2) << "sent again on a second connection";
}

// A response that arrives whole is written by hand (proxy/fast_write.h), not
// by Beast's serializer: the worker's own copies of the proxy's security
// headers and its hop-by-hop Connection header must still go.
TEST_F(WorkerEndTest, AWholeResponseCarriesOnlyTheProxysSecurityHeaders) {
  for (int i = 0; i < 2; ++i) {  // a new worker connection, then a pooled one
    auto res = get("/app/echo/x");
    ASSERT_EQ(res.result_int(), 200) << res.body();
    EXPECT_EQ(res.body(), "ok\n");
    std::vector<std::string> frame_options, content_type_options;
    for (const auto& field : res) {
      if (beast::iequals(field.name_string(), "x-frame-options"))
        frame_options.emplace_back(field.value());
      if (beast::iequals(field.name_string(), "x-content-type-options"))
        content_type_options.emplace_back(field.value());
    }
    EXPECT_EQ(frame_options, std::vector<std::string>{"DENY"});
    EXPECT_EQ(content_type_options, std::vector<std::string>{"nosniff"});
    EXPECT_EQ(res.count(bhttp::field::connection), 0u)
        << "the worker's Connection header went through";
    EXPECT_EQ(res["X-Blockyard-Version"], "0.0.0-test");
  }
}

// A worker that never answers, or stops mid-body, holds neither its client
// nor the proxy for good: once the exchange's deadline (worker_start_timeout
// + http_forward_timeout, 1 s + 1 s here) passes, the proxy closes the
// worker's connection and ends the client's request.
class DeadlineTest : public WorkerEndTest {
 protected:
  struct Outcome {
    std::optional<beast::error_code> ended;  // unset: still open after 20 s
    std::chrono::steady_clock::duration waited{};
    bhttp::response<bhttp::string_body> response;
  };

  void SetUp() override {
    WorkerEndTest::SetUp();
    ASSERT_EQ(get("/app/echo/x").result_int(), 200);  // the session and its worker
    config_.proxy.worker_start_timeout = 1s;
    config_.proxy.http_forward_timeout = 1s;
  }

  Outcome get_waiting(const std::string& target) {
    asio::io_context io;
    beast::tcp_stream stream(io);
    stream.connect(tcp::endpoint(asio::ip::make_address("127.0.0.1"), port_));
    bhttp::request<bhttp::empty_body> req{bhttp::verb::get, target, 11};
    req.set(bhttp::field::host, "127.0.0.1");
    req.set(bhttp::field::cookie, cookie_);
    bhttp::write(stream, req);
    const auto start = std::chrono::steady_clock::now();
    beast::flat_buffer buffer;
    Outcome outcome;
    bhttp::async_read(stream, buffer, outcome.response, [&](beast::error_code ec, std::size_t) {
      outcome.ended = ec;
      outcome.waited = std::chrono::steady_clock::now() - start;
    });
    io.run_for(20s);
    return outcome;
  }

  // The worker's connections that carried the hung request, once the proxy
  // had up to 10 s to close them.
  int hung_connections_left() {
    auto worker = counting().worker(map_.all().front().id);
    if (!worker) return -1;
    const auto until = std::chrono::steady_clock::now() + 10s;
    while (worker->open_silent_connections() > 0 && std::chrono::steady_clock::now() < until)
      std::this_thread::sleep_for(10ms);
    return worker->open_silent_connections();
  }
};

TEST_F(DeadlineTest, AClientWaitingOnASilentWorkerGetsA502) {
  Outcome outcome = get_waiting("/app/echo/silent");
  ASSERT_TRUE(outcome.ended) << "still open after 20 s";
  ASSERT_FALSE(*outcome.ended) << "no answer: " << outcome.ended->message();
  EXPECT_EQ(outcome.response.result_int(), 502);
  EXPECT_GE(outcome.waited, 1500ms) << "answered before the deadline";
  EXPECT_FALSE(outcome.response.keep_alive());
  EXPECT_EQ(hung_connections_left(), 0) << "the proxy still holds the worker's connection";
}

TEST_F(DeadlineTest, AResponseStalledMidBodyEndsBothConnections) {
  Outcome outcome = get_waiting("/app/echo/stall");
  ASSERT_TRUE(outcome.ended) << "still open after 20 s";
  EXPECT_TRUE(*outcome.ended) << "a whole response from 3 of 10 body bytes";
  EXPECT_GE(outcome.waited, 1500ms) << "ended before the deadline";
  EXPECT_EQ(hung_connections_left(), 0) << "the proxy still holds the worker's connection";
}

}  // namespace
}  // namespace blockyard::server
