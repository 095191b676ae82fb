// The proxy's short path for small messages: a header serialized into one
// contiguous buffer, sent with one non-blocking sendmsg. When the socket
// takes every byte (the usual case for a small request or response) the
// continuation runs at once, without a trip through the event loop; only
// what the socket could not take is written asynchronously. Proxy-private:
// includes Beast.
#pragma once

#include <boost/asio/write.hpp>
#include <boost/beast/core/buffers_suffix.hpp>
#include <boost/beast/http/message.hpp>

#include <array>
#include <span>
#include <string>

namespace blockyard::proxy {

// Appends `header` as it goes on the wire, start line and fields, without
// the blank line: the caller may append more header lines ("Name: value\r\n")
// before it ends the header with "\r\n".
void append_wire_header_lines(const boost::beast::http::request_header<>& header, std::string& out);
void append_wire_header_lines(const boost::beast::http::response_header<>& header,
                              std::string& out);

// Sends as much of `buffers` as socket `fd` takes now, without waiting.
// Returns the bytes sent; a full socket buffer is not an error.
std::size_t send_now(int fd, std::span<const boost::asio::const_buffer> buffers,
                     boost::system::error_code& ec);

// Writes all of `buffers` (which must stay valid until `then` runs) to
// `stream`, whose socket is `fd`; `then(error_code)` runs inline when the
// socket took everything at once.
template <class Stream, class Then, std::size_t N>
void write_fast(Stream& stream, int fd, const std::array<boost::asio::const_buffer, N>& buffers,
                Then then) {
  namespace asio = boost::asio;
  boost::system::error_code ec;
  const std::size_t sent = send_now(fd, buffers, ec);
  if (ec || sent == asio::buffer_size(buffers)) return then(ec);
  boost::beast::buffers_suffix<std::array<asio::const_buffer, N>> rest(buffers);
  rest.consume(sent);
  asio::async_write(
      stream, rest,
      [then = std::move(then)](boost::system::error_code ec, std::size_t) mutable { then(ec); });
}

}  // namespace blockyard::proxy
