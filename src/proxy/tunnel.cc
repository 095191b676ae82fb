#include "proxy/tunnel.h"

#include <boost/asio/bind_executor.hpp>
#include <boost/asio/buffer.hpp>
#include <boost/asio/dispatch.hpp>
#include <boost/asio/write.hpp>

#include <array>

namespace blockyard::proxy {

namespace asio = boost::asio;
using boost::system::error_code;

namespace {

// Large enough that a burst of Shiny output moves in one read; shared by all
// tunnels served by a thread, and never held across an asynchronous wait.
constexpr std::size_t kScratchBytes = 64 * 1024;

bool would_block(const error_code& ec) {
  return ec == asio::error::would_block || ec == asio::error::try_again;
}

}  // namespace

Tunnel::Tunnel(tcp::socket& client, std::shared_ptr<void> keep_alive, UpstreamSocket upstream,
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

template <class Handler>
auto Tunnel::on_strand(Handler&& handler) {
  return asio::bind_executor(client_.get_executor(), std::forward<Handler>(handler));
}

void Tunnel::start(boost::beast::flat_buffer& client_pending,
                   boost::beast::flat_buffer& upstream_pending) {
  error_code ec;
  client_.non_blocking(true, ec);
  if (!ec) upstream_.non_blocking(true, ec);
  auto take = [](boost::beast::flat_buffer& from, auto& d) {
    auto data = from.data();
    const char* begin = static_cast<const char*>(data.data());
    d.unsent.assign(begin, begin + data.size());
    from.consume(from.size());
  };
  take(client_pending, to_upstream_);
  take(upstream_pending, to_client_);
  if (ec) return shut_down();
  // Start on the strand: the caller runs on the client's, but not necessarily
  // as a handler of it.
  asio::dispatch(on_strand([self = shared_from_this()] {
    self->write_unsent(self->to_upstream_);
    self->write_unsent(self->to_client_);
  }));
}

template <class D>
void Tunnel::wait_readable(D& d) {
  if (closed_) return;
  d.from->async_wait(tcp::socket::wait_read,
                     on_strand([self = shared_from_this(), &d](error_code ec) {
                       if (ec) return self->shut_down();
                       self->pass_on(d);
                     }));
}

// One read into the scratch buffer, written straight on; a remainder the
// destination will not take now goes to the heap until it drains.
template <class D>
void Tunnel::pass_on(D& d) {
  if (closed_) return;
  thread_local std::array<char, kScratchBytes> scratch;
  error_code ec;
  std::size_t n = d.from->read_some(asio::buffer(scratch), ec);
  if (would_block(ec)) return wait_readable(d);
  if (ec) return shut_down();  // includes EOF: either side ending ends both
  std::size_t sent = d.to->write_some(asio::buffer(scratch.data(), n), ec);
  if (ec && !would_block(ec)) return shut_down();
  if (ec) sent = 0;
  if (sent == n) return wait_readable(d);
  d.unsent.assign(scratch.data() + sent, scratch.data() + n);
  write_unsent(d);
}

template <class D>
void Tunnel::write_unsent(D& d) {
  if (d.unsent.empty()) return wait_readable(d);
  asio::async_write(*d.to, asio::buffer(d.unsent),
                    on_strand([self = shared_from_this(), &d](error_code ec, std::size_t) {
                      std::vector<char>().swap(d.unsent);  // give the memory back
                      if (ec) return self->shut_down();
                      self->wait_readable(d);
                    }));
}

void Tunnel::shut_down() {
  // Closing both sockets ends the other direction's pending operation too; the
  // tunnel is destroyed once both handlers have returned.
  if (closed_) return;
  closed_ = true;
  error_code ec;
  client_.shutdown(tcp::socket::shutdown_both, ec);
  client_.close(ec);
  upstream_.shutdown(tcp::socket::shutdown_both, ec);
  upstream_.close(ec);
}

}  // namespace blockyard::proxy
