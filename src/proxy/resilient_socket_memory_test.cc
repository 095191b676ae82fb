// Heap held by idle resumable WebSocket sessions (resilient_socket.h).
//
// The proxy side runs in this process; the browsers and the worker (a Beast
// echo server standing in for httpuv) run in a forked child, so their
// allocations do not count. The heap in use (mallinfo2, all arenas) is read
// once a warm-up round has come and gone, and again while N sessions are
// open and idle: their cost is the difference over N. bench/ws_idle_rss.sh
// measures the whole proxy's RSS against nginx; this test pins the part that
// is this file's, per session, and fails if a change makes it grow back.
#include <gtest/gtest.h>
#include <malloc.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/websocket.hpp>
#include <cstdio>
#include <memory>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "proxy/resilient_socket.h"
#include "proxy/resume_registry.h"

namespace blockyard::proxy {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace bhttp = beast::http;
namespace websocket = beast::websocket;
using tcp = asio::ip::tcp;

constexpr std::size_t kSessions = 200;
constexpr std::size_t kTouchBytes = 64 * 1024;

// A listening loopback TCP socket on a free port: {fd, port}.
std::pair<int, int> listen_loopback() {
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof addr;
  if (fd < 0 || ::bind(fd, reinterpret_cast<sockaddr*>(&addr), len) != 0 ||
      ::listen(fd, 1024) != 0 || ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
    ADD_FAILURE() << "cannot listen on loopback";
  }
  return {fd, ntohs(addr.sin_port)};
}

// --- the child: worker and browsers -----------------------------------------

// The worker: echoes every message (as the bench's ws-echo app does).
void serve_echo(tcp::socket socket) {
  socket.set_option(tcp::no_delay(true));  // no delayed-ACK stalls between the echoes
  auto ws = std::make_shared<websocket::stream<tcp::socket>>(std::move(socket));
  auto buffer = std::make_shared<beast::flat_buffer>();
  auto loop = std::make_shared<std::function<void()>>();
  *loop = [ws, buffer, loop] {
    ws->async_read(*buffer, [ws, buffer, loop](beast::error_code ec, std::size_t) {
      if (ec) {
        *loop = nullptr;  // breaks the cycle
        return;
      }
      ws->binary(!ws->got_text());
      ws->async_write(buffer->data(), [ws, buffer, loop](beast::error_code ec, std::size_t) {
        buffer->consume(buffer->size());
        if (ec) {
          *loop = nullptr;
          return;
        }
        (*loop)();
      });
    });
  };
  ws->async_accept([ws, loop](beast::error_code ec) {
    if (ec) {
      *loop = nullptr;
      return;
    }
    (*loop)();
  });
}

void accept_loop(tcp::acceptor& acceptor) {
  acceptor.async_accept([&acceptor](beast::error_code ec, tcp::socket socket) {
    if (ec) return;
    serve_echo(std::move(socket));
    accept_loop(acceptor);
  });
}

using Browser = websocket::stream<tcp::socket>;

// Opens a resumable socket as the injected script does and waits for hello;
// with `touch`, echoes one kTouchBytes message and acknowledges it.
std::unique_ptr<Browser> open_browser(asio::io_context& io, int proxy_port, bool touch) {
  auto ws = std::make_unique<Browser>(io);
  ws->next_layer().connect(tcp::endpoint(asio::ip::address_v4::loopback(), proxy_port));
  ws->next_layer().set_option(tcp::no_delay(true));
  ws->set_option(websocket::stream_base::decorator([](websocket::request_type& req) {
    req.set(bhttp::field::cookie,
            "blockyard_session=0123456789abcdef0123456789abcdef; "
            "blockyard_route=fedcba9876543210fedcba9876543210");
    req.set(bhttp::field::user_agent,
            "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko)");
    req.set(bhttp::field::origin, "http://127.0.0.1");
  }));
  ws->handshake("127.0.0.1", "/app/echo/websocket/?blockyard_resume=new");
  beast::flat_buffer buffer;
  ws->read(buffer);  // hello
  if (touch) {
    std::string big(kTouchBytes, 'y');
    ws->binary(true);
    ws->write(asio::buffer(big));
    do {
      buffer.consume(buffer.size());
      ws->read(buffer);
    } while (ws->got_text());  // the proxy's acks
    if (beast::buffers_to_string(buffer.data()) != big) {
      throw std::runtime_error("the echo came back changed");
    }
    ws->text(true);
    ws->write(asio::buffer(std::string("\x1e{\"t\":\"ack\",\"n\":1}")));
  }
  return ws;
}

// Obeys "open N [touch]" and "close" lines on `commands`, answers "ok".
[[noreturn]] void run_child(int worker_fd, int proxy_port, int commands, int replies) {
  asio::io_context worker_io;
  tcp::acceptor acceptor(worker_io, tcp::v4(), worker_fd);
  accept_loop(acceptor);
  std::thread worker([&] { worker_io.run(); });

  asio::io_context browser_io;
  std::vector<std::unique_ptr<Browser>> browsers;
  FILE* in = ::fdopen(commands, "r");
  char line[64];
  while (std::fgets(line, sizeof line, in)) {
    std::size_t n = 0;
    char touch[16] = "";
    if (std::sscanf(line, "open %zu %15s", &n, touch) >= 1) {
      try {
        for (std::size_t i = 0; i < n; ++i) {
          browsers.push_back(open_browser(browser_io, proxy_port, std::string(touch) == "touch"));
        }
      } catch (const std::exception& e) {
        std::fprintf(stderr, "browser: %s\n", e.what());
        ::_exit(1);
      }
    } else {
      for (auto& ws : browsers) ws->close(websocket::close_code::normal);
      browsers.clear();
    }
    if (::write(replies, "ok\n", 3) != 3) break;
  }
  ::_exit(0);
}

// --- the proxy ----------------------------------------------------------------

class Proxy {
 public:
  Proxy(int listen_fd, int worker_port)
      : acceptor_(io_, tcp::v4(), listen_fd), worker_port_(worker_port) {
    accept();
    thread_ = std::thread([this] { io_.run(); });
  }
  ~Proxy() {
    io_.stop();
    thread_.join();
  }
  std::size_t live() const { return live_; }

 private:
  void accept() {
    acceptor_.async_accept([this](beast::error_code ec, tcp::socket socket) {
      if (ec) return;
      read_upgrade(std::make_shared<tcp::socket>(std::move(socket)));
      accept();
    });
  }

  void read_upgrade(std::shared_ptr<tcp::socket> socket) {
    auto parser = std::make_shared<bhttp::request_parser<bhttp::empty_body>>();
    auto buffer = std::make_shared<beast::flat_buffer>();
    bhttp::async_read(*socket, *buffer, *parser,
                      [this, socket, parser, buffer](beast::error_code ec, std::size_t) {
                        if (ec) return;
                        ClientUpgrade client{std::move(*socket), parser->release(), {}};
                        // What the data plane adds to every response.
                        client.response_fields.set("X-Content-Type-Options", "nosniff");
                        client.response_fields.set("X-Frame-Options", "DENY");
                        client.response_fields.set("Referrer-Policy",
                                                   "strict-origin-when-cross-origin");
                        client.response_fields.set("X-Blockyard-Version", "0.0.0-test");
                        ++live_;
                        start_resilient_session(
                            io_, registry_, ResilientOptions{},
                            SessionBinding{"fedcba9876543210fedcba9876543210",
                                           "0b7e8c4e-9f61-4d7a-a1d4-3f4c2c9a8e11", "w-12345678"},
                            BackendTarget{Endpoint::tcp("127.0.0.1", worker_port_), "/websocket/"},
                            std::move(client), [this] { --live_; });
                      });
  }

  asio::io_context io_{1};
  tcp::acceptor acceptor_;
  int worker_port_;
  ResumeRegistry registry_;
  std::atomic<std::size_t> live_{0};
  std::thread thread_;
};

class IdleSessionHeap : public ::testing::Test {
 protected:
  void SetUp() override {
    auto [proxy_fd, proxy_port] = listen_loopback();
    auto [worker_fd, worker_port] = listen_loopback();
    int to_child[2], from_child[2];
    ASSERT_EQ(::pipe2(to_child, O_CLOEXEC), 0);
    ASSERT_EQ(::pipe2(from_child, O_CLOEXEC), 0);
    child_ = ::fork();
    ASSERT_GE(child_, 0);
    if (child_ == 0) {
      ::close(proxy_fd);
      ::close(to_child[1]);
      ::close(from_child[0]);
      run_child(worker_fd, proxy_port, to_child[0], from_child[1]);
    }
    ::close(worker_fd);
    ::close(to_child[0]);
    ::close(from_child[1]);
    commands_ = to_child[1];
    replies_ = from_child[0];
    proxy_ = std::make_unique<Proxy>(proxy_fd, worker_port);
  }

  void TearDown() override {
    proxy_.reset();
    ::close(commands_);
    ::close(replies_);
    int status = 0;
    ::waitpid(child_, &status, 0);
  }

  void command(const std::string& line) {
    ASSERT_EQ(::write(commands_, line.data(), line.size()), static_cast<ssize_t>(line.size()));
    char reply[3];
    ASSERT_EQ(::read(replies_, reply, 3), 3) << "the child failed at: " << line;
  }

  // Lets the proxy finish what the last command started (acks, closes).
  void settle(std::size_t live) {
    for (int i = 0; i < 200 && proxy_->live() != live; ++i) {
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    ASSERT_EQ(proxy_->live(), live);
    std::this_thread::sleep_for(std::chrono::milliseconds(400));  // > the ack delay
  }

  static std::size_t heap_in_use() { return mallinfo2().uordblks; }

  // Heap per open idle session.
  std::size_t measure(bool touch) {
    command("open 16 touch\n");  // warm-up: one-off allocations happen here
    settle(16);
    command("close\n");
    settle(0);
    std::size_t before = heap_in_use();
    command("open " + std::to_string(kSessions) + (touch ? " touch\n" : "\n"));
    settle(kSessions);
    std::size_t after = heap_in_use();
    command("close\n");
    settle(0);
    return after > before ? (after - before) / kSessions : 0;
  }

  pid_t child_ = -1;
  int commands_ = -1;
  int replies_ = -1;
  std::unique_ptr<Proxy> proxy_;
};

// Before: 16,660 B never active, 20,666 B after a 64 KiB echo (two Beast
// read buffers prepared ahead of any message, Beast's 4 KiB masking buffer,
// three std::deques, the handshakes' copied headers). Now ~10.5 / ~11.2 KiB.
constexpr std::size_t kMaxIdleSessionHeap = 12 * 1024;

TEST_F(IdleSessionHeap, NeverActiveSessionStaysSmall) {
  auto bytes = measure(false);
  std::printf("heap per idle resumable session, never active: %zu B\n", bytes);
  EXPECT_LE(bytes, kMaxIdleSessionHeap);
}

TEST_F(IdleSessionHeap, ALargeMessageLeavesNoBufferBehind) {
  auto bytes = measure(true);
  std::printf("heap per idle resumable session, after a 64 KiB echo: %zu B\n", bytes);
  EXPECT_LE(bytes, kMaxIdleSessionHeap);
}

}  // namespace
}  // namespace blockyard::proxy
