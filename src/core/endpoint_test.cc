#include "core/endpoint.h"

#include <gtest/gtest.h>

namespace blockyard {
namespace {

TEST(Endpoint, PrintsAndParsesTcpAndUnixAlike) {
  for (const Endpoint& e : {Endpoint::tcp("127.0.0.1", 10001), Endpoint::tcp("::1", 8080),
                            Endpoint::unix_socket("/run/blockyard/w1.sock")}) {
    auto parsed = Endpoint::parse(e.to_string());
    ASSERT_TRUE(parsed) << e.to_string();
    EXPECT_EQ(*parsed, e);
  }
  EXPECT_EQ(Endpoint::tcp("::1", 8080).to_string(), "[::1]:8080");
  EXPECT_EQ(Endpoint::unix_socket("/s").to_string(), "unix:/s");
  EXPECT_TRUE(Endpoint{}.empty());
  EXPECT_EQ(Endpoint{}.to_string(), "");
}

TEST(Endpoint, RefusesWhatItCannotConnectTo) {
  for (const char* bad : {"", "127.0.0.1", "127.0.0.1:0", "127.0.0.1:65536", "host:80x", "::1:80",
                          "unix:", "unix:relative.sock", ":80"}) {
    EXPECT_FALSE(Endpoint::parse(bad)) << bad;
  }
}

}  // namespace
}  // namespace blockyard
