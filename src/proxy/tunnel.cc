#include "proxy/tunnel.h"

#include <boost/asio/buffer.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/buffers_to_string.hpp>

namespace blockyard::proxy {

namespace asio = boost::asio;

Tunnel::Tunnel(tcp::socket& client, std::shared_ptr<void> keep_alive, tcp::socket upstream,
               std::function<void()> on_close)
    : client_(client),
      keep_alive_(std::move(keep_alive)),
      upstream_(std::move(upstream)),
      on_close_(std::move(on_close)) {
  to_upstream_.from = &client_;
  to_upstream_.to = &upstream_;
  to_client_.from = &upstream_;
  to_client_.to = &client_;
}

Tunnel::~Tunnel() {
  if (on_close_) on_close_();
}

void Tunnel::start(boost::beast::flat_buffer& client_pending,
                   boost::beast::flat_buffer& upstream_pending) {
  write_pending(to_upstream_, std::make_shared<std::string>(
                                  boost::beast::buffers_to_string(client_pending.data())));
  write_pending(to_client_, std::make_shared<std::string>(
                                boost::beast::buffers_to_string(upstream_pending.data())));
  client_pending.consume(client_pending.size());
  upstream_pending.consume(upstream_pending.size());
}

void Tunnel::write_pending(Direction& d, std::shared_ptr<std::string> pending) {
  if (pending->empty()) return read(d);
  asio::async_write(
      *d.to, asio::buffer(*pending),
      [self = shared_from_this(), &d, pending](boost::system::error_code ec, std::size_t) {
        if (ec) return self->shut_down();
        self->read(d);
      });
}

void Tunnel::read(Direction& d) {
  d.from->async_read_some(asio::buffer(d.buffer), [self = shared_from_this(), &d](
                                                      boost::system::error_code ec, std::size_t n) {
    if (ec) return self->shut_down();
    asio::async_write(*d.to, asio::buffer(d.buffer.data(), n),
                      [self, &d](boost::system::error_code ec2, std::size_t) {
                        if (ec2) return self->shut_down();
                        self->read(d);
                      });
  });
}

void Tunnel::shut_down() {
  // Closing both sockets ends the other direction's pending operation too; the
  // tunnel is destroyed once both handlers have returned.
  boost::system::error_code ec;
  client_.shutdown(tcp::socket::shutdown_both, ec);
  client_.close(ec);
  upstream_.shutdown(tcp::socket::shutdown_both, ec);
  upstream_.close(ec);
}

}  // namespace blockyard::proxy
