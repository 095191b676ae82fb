// HttpServer: the main listener. Accepts TCP connections on Boost.Asio, parses
// HTTP/1.1 with Boost.Beast, and sends each request either to the data plane
// (paths under /app/, see http/connection.h) or to the API router, whose
// handlers run on a small thread pool so slow handlers never stall I/O.
//
// This header stays free of Beast; only http/*.cc and proxy/*.cc include it.
#pragma once

#include <atomic>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "http/router.h"

namespace boost::asio {
class io_context;
}

namespace blockyard::http {

class DataPlaneHandler;
class RateLimitPolicy;

struct ServerOptions {
  std::string bind = "127.0.0.1:8080";
  std::size_t api_body_limit = 1 << 20;         // JSON API bodies
  std::uint64_t upload_body_limit = 104857600;  // bundle uploads (storage.max_bundle_size)
  std::filesystem::path upload_dir;             // where uploads are spooled
  std::string version;                          // X-Blockyard-Version
  bool hsts = false;                            // external_url is https
  int handler_threads = 2;
  // Threads that run the io_context. With one, a connection's handlers need
  // no strand (which costs a lock and a queue per completion).
  int io_threads = 1;
  // Per-client-IP limits checked before any route runs; null = none.
  std::shared_ptr<RateLimitPolicy> rate_limits;
  // CIDRs whose X-Forwarded-For is believed for Request::client_ip.
  std::vector<std::string> trusted_proxies;
};

// True for requests whose body is spooled to a file instead of memory.
bool is_upload_route(const std::string& method, const std::string& path);

class HttpServer {
 public:
  HttpServer(boost::asio::io_context& io, ServerOptions options, const Router& router,
             std::shared_ptr<DataPlaneHandler> data_plane);
  ~HttpServer();
  HttpServer(const HttpServer&) = delete;
  HttpServer& operator=(const HttpServer&) = delete;

  // Binds and starts accepting. Throws std::runtime_error naming the address.
  void listen();
  // The bound address ("127.0.0.1:8080"), useful when binding port 0.
  std::string local_address() const;
  // Closes the listener; open connections finish their current request.
  void stop_accepting();
  // Requests being handled right now (WebSocket tunnels excluded).
  int in_flight() const;
  // Waits for API handler threads to finish.
  void join_handlers();

  struct Impl;

 private:
  std::unique_ptr<Impl> impl_;
};

}  // namespace blockyard::http
