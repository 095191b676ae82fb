#include "proxy/upstream_pool.h"

#include <gtest/gtest.h>
#include <sys/socket.h>
#include <unistd.h>

#include <boost/asio/io_context.hpp>

namespace blockyard::proxy {
namespace {

// One end of a socket pair as an upstream connection; the other end tells
// whether it is still open.
struct Connection {
  UpstreamSocket socket;
  int peer = -1;

  explicit Connection(boost::asio::io_context& io) : socket(io) {
    int fds[2];
    EXPECT_EQ(::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds), 0);
    socket.assign(boost::asio::generic::stream_protocol(AF_UNIX, 0), fds[0]);
    peer = fds[1];
  }
  ~Connection() { ::close(peer); }
};

// True once the pool's end was closed (the peer reads EOF).
bool closed(int peer) {
  char byte;
  return ::recv(peer, &byte, 1, MSG_DONTWAIT) == 0;
}

TEST(UpstreamPool, AnEndedWorkersConnectionsCloseAndLateOnesAreRefused) {
  boost::asio::io_context io;
  UpstreamPool pool;
  Connection idle(io), late(io), other(io);
  pool.give("w1", std::move(idle.socket));
  pool.give("w2", std::move(other.socket));
  EXPECT_EQ(pool.workers_held(), 2u);
  EXPECT_FALSE(closed(idle.peer));

  pool.drop("w1");
  EXPECT_TRUE(closed(idle.peer)) << "dropped with its worker";
  // A response that was still being relayed when the worker ended.
  pool.give("w1", std::move(late.socket));
  EXPECT_TRUE(closed(late.peer)) << "given back after the end: closed, not kept";
  EXPECT_FALSE(pool.take("w1"));
  EXPECT_EQ(pool.workers_held(), 1u);
  EXPECT_TRUE(pool.take("w2")) << "other workers keep theirs";
}

TEST(UpstreamPool, AConnectionTheWorkerClosedIsSkippedOnlyWhenChecked) {
  boost::asio::io_context io;
  UpstreamPool pool;
  Connection first(io), second(io);
  pool.give("w", std::move(first.socket));
  pool.give("w", std::move(second.socket));
  ::shutdown(second.peer, SHUT_WR);  // the worker closed the newest idle connection

  auto checked = pool.take("w");
  ASSERT_TRUE(checked);
  char byte;
  EXPECT_LT(::recv(checked->native_handle(), &byte, 1, MSG_DONTWAIT | MSG_PEEK), 0)
      << "the closed one was passed over for the open one";

  pool.give("w", std::move(*checked));
  Connection closed_one(io);
  pool.give("w", std::move(closed_one.socket));
  ::shutdown(closed_one.peer, SHUT_WR);
  auto unchecked = pool.take("w", false);
  ASSERT_TRUE(unchecked);
  EXPECT_EQ(::recv(unchecked->native_handle(), &byte, 1, MSG_DONTWAIT | MSG_PEEK), 0)
      << "unchecked: the newest, even though closed (the caller retries)";
}

}  // namespace
}  // namespace blockyard::proxy
