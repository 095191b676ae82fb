#include "http/server.h"

#include <spdlog/spdlog.h>

#include <boost/asio/ip/tcp.hpp>
#include <stdexcept>

#include "http/connection.h"
#include "http/server_shared.h"

namespace blockyard::http {

bool is_upload_route(const std::string& method, const std::string& path) {
  // POST /api/v1/apps/{id}/bundles
  return method == "POST" && path.starts_with("/api/v1/apps/") && path.ends_with("/bundles") &&
         std::count(path.begin(), path.end(), '/') == 5;
}

struct HttpServer::Impl {
  Impl(asio::io_context& io, ServerOptions options, const Router& router,
       std::shared_ptr<DataPlaneHandler> data_plane)
      : shared(
            std::make_shared<ServerShared>(io, std::move(options), router, std::move(data_plane))),
        acceptor(asio::make_strand(io)) {}

  // Where a new connection's handlers run.
  asio::any_io_executor connection_executor() {
    if (shared->options.io_threads > 1) return asio::make_strand(shared->io);
    return shared->io.get_executor();
  }

  void accept() {
    acceptor.async_accept(connection_executor(), [this](beast::error_code ec, tcp::socket socket) {
      if (ec) {
        if (ec != asio::error::operation_aborted) {
          spdlog::warn("accept failed: {}", ec.message());
        }
        if (!acceptor.is_open()) return;
      } else {
        std::make_shared<Connection>(std::move(socket), shared)->start();
      }
      accept();
    });
  }

  std::shared_ptr<ServerShared> shared;
  tcp::acceptor acceptor;
};

HttpServer::HttpServer(asio::io_context& io, ServerOptions options, const Router& router,
                       std::shared_ptr<DataPlaneHandler> data_plane)
    : impl_(std::make_unique<Impl>(io, std::move(options), router, std::move(data_plane))) {}

HttpServer::~HttpServer() {
  impl_->shared->handlers.join();
}

static tcp::endpoint parse_bind(const std::string& bind) {
  auto colon = bind.rfind(':');
  if (colon == std::string::npos) throw std::runtime_error("missing port");
  std::string host = bind.substr(0, colon);
  std::string port = bind.substr(colon + 1);
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') {
    host = host.substr(1, host.size() - 2);
  }
  if (host.empty()) host = "0.0.0.0";
  if (host == "localhost") host = "127.0.0.1";
  beast::error_code ec;
  auto address = asio::ip::make_address(host, ec);
  if (ec) throw std::runtime_error("invalid host \"" + host + "\"");
  return {address, static_cast<unsigned short>(std::stoi(port))};
}

void HttpServer::listen() {
  const std::string& bind = impl_->shared->options.bind;
  try {
    auto endpoint = parse_bind(bind);
    auto& acc = impl_->acceptor;
    acc.open(endpoint.protocol());
    acc.set_option(asio::socket_base::reuse_address(true));
    acc.bind(endpoint);
    acc.listen(asio::socket_base::max_listen_connections);
  } catch (const std::exception& e) {
    throw std::runtime_error("listen on " + bind + ": " + e.what());
  }
  impl_->accept();
}

std::string HttpServer::local_address() const {
  auto ep = impl_->acceptor.local_endpoint();
  return ep.address().to_string() + ":" + std::to_string(ep.port());
}

void HttpServer::stop_accepting() {
  asio::post(impl_->acceptor.get_executor(), [this] {
    beast::error_code ec;
    impl_->acceptor.close(ec);
  });
}

int HttpServer::in_flight() const {
  return impl_->shared->in_flight.load();
}

void HttpServer::join_handlers() {
  impl_->shared->handlers.join();
}

}  // namespace blockyard::http
