#include "proxy/fast_write.h"

#include <gtest/gtest.h>
#include <sys/socket.h>
#include <unistd.h>

#include <boost/asio/generic/stream_protocol.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/beast/http/empty_body.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/http/write.hpp>

#include <sstream>

namespace blockyard::proxy {
namespace {

namespace asio = boost::asio;
namespace bhttp = boost::beast::http;

// What Beast's own serializer writes for `message`.
template <class Message>
std::string beast_wire(const Message& message) {
  std::ostringstream out;
  out << message.base();
  return out.str();
}

// The whole header as the proxy writes it: its lines, then the blank line.
template <class Header>
std::string wire_header(const Header& header) {
  std::string wire;
  append_wire_header_lines(header, wire);
  return wire + "\r\n";
}

TEST(FastWrite, RequestHeaderIsWhatBeastWrites) {
  bhttp::request<bhttp::empty_body> req(bhttp::verb::get, "/app/x/small.txt?a=%2F", 11);
  req.set(bhttp::field::host, "example.org");
  req.insert("X-Forwarded-For", "10.0.0.1");
  req.insert("X-Forwarded-For", "10.0.0.2");
  const std::string wire = wire_header(req);
  EXPECT_EQ(wire, beast_wire(req));
  EXPECT_TRUE(wire.starts_with("GET /app/x/small.txt?a=%2F HTTP/1.1\r\nHost: example.org\r\n"));
  EXPECT_TRUE(wire.ends_with("X-Forwarded-For: 10.0.0.2\r\n\r\n"));

  bhttp::request<bhttp::empty_body> custom;
  custom.method_string("PROPFIND");
  custom.target("/");
  custom.version(10);
  const std::string custom_wire = wire_header(custom);
  EXPECT_EQ(custom_wire, "PROPFIND / HTTP/1.0\r\n\r\n");
}

TEST(FastWrite, ResponseHeaderKeepsTheWorkersReasonOrUsesTheStandardOne) {
  // As parsed from a worker: its own reason phrase is kept.
  bhttp::response_parser<bhttp::string_body> parser;
  boost::system::error_code ec;
  std::string upstream = "HTTP/1.1 200 Fine\r\nContent-Length: 2\r\nETag: \"x\"\r\n\r\nok";
  parser.put(asio::buffer(upstream), ec);
  ASSERT_FALSE(ec);
  const std::string wire = wire_header(parser.get());
  EXPECT_EQ(wire, "HTTP/1.1 200 Fine\r\nContent-Length: 2\r\nETag: \"x\"\r\n\r\n");

  bhttp::response<bhttp::empty_body> res(bhttp::status::not_found, 11);
  res.set(bhttp::field::content_type, "text/plain");
  const std::string standard = wire_header(res);
  EXPECT_EQ(standard, beast_wire(res));
  EXPECT_TRUE(standard.starts_with("HTTP/1.1 404 Not Found\r\n"));
}

struct SocketPair {
  asio::io_context io;
  asio::generic::stream_protocol::socket ours{io};
  int peer = -1;

  SocketPair() {
    int fds[2];
    EXPECT_EQ(::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds), 0);
    ours.assign(asio::generic::stream_protocol(AF_UNIX, 0), fds[0]);
    peer = fds[1];
  }
  ~SocketPair() { ::close(peer); }

  std::string read_all_available() {
    std::string got;
    char buf[65536];
    for (ssize_t n; (n = ::recv(peer, buf, sizeof buf, MSG_DONTWAIT)) > 0;) got.append(buf, n);
    return got;
  }
};

TEST(FastWrite, ASmallWriteCompletesInlineInOneSend) {
  SocketPair pair;
  const std::string header = "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\n";
  const std::string body = "hello";
  bool done = false;
  boost::system::error_code result = asio::error::would_block;
  write_fast(pair.ours, pair.ours.native_handle(),
             std::array{asio::const_buffer(header.data(), header.size()),
                        asio::const_buffer(body.data(), body.size())},
             [&](boost::system::error_code ec) {
               done = true;
               result = ec;
             });
  EXPECT_TRUE(done) << "ran before write_fast returned, without the event loop";
  EXPECT_FALSE(result);
  EXPECT_EQ(pair.read_all_available(), header + body);
}

TEST(FastWrite, WhatTheSocketCannotTakeNowIsWrittenLater) {
  SocketPair pair;
  const int small = 4096;
  ::setsockopt(pair.ours.native_handle(), SOL_SOCKET, SO_SNDBUF, &small, sizeof small);
  const std::string big(1 << 20, 'x');
  bool done = false;
  write_fast(pair.ours, pair.ours.native_handle(),
             std::array{asio::const_buffer(big.data(), big.size())},
             [&](boost::system::error_code ec) {
               EXPECT_FALSE(ec);
               done = true;
             });
  EXPECT_FALSE(done) << "a full socket buffer leaves the rest to the event loop";
  std::string got;
  while (!done || got.size() < big.size()) {
    pair.io.poll();
    got += pair.read_all_available();
    if (pair.io.stopped()) pair.io.restart();
  }
  EXPECT_EQ(got.size(), big.size());
  EXPECT_EQ(got, big);
}

TEST(FastWrite, AClosedPeerIsAnErrorInline) {
  SocketPair pair;
  ::close(pair.peer);
  pair.peer = -1;
  const std::string data = "GET / HTTP/1.1\r\n\r\n";
  boost::system::error_code result;
  write_fast(pair.ours, pair.ours.native_handle(),
             std::array{asio::const_buffer(data.data(), data.size())},
             [&](boost::system::error_code ec) { result = ec; });
  EXPECT_EQ(result, asio::error::broken_pipe);
}

}  // namespace
}  // namespace blockyard::proxy
