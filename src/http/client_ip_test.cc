#include "http/client_ip.h"

#include <gtest/gtest.h>

#include <stdexcept>

namespace blockyard::http {
namespace {

TEST(ClientIp, WithoutTrustedProxiesThePeerIsTheClient) {
  TrustedProxies none;
  EXPECT_EQ(client_ip("192.0.2.1", "198.51.100.1", "198.51.100.2", none), "192.0.2.1");
  EXPECT_EQ(client_ip("::ffff:192.0.2.1", "", "", none), "192.0.2.1");
}

TEST(ClientIp, UntrustedPeerCannotSpoofForwardingHeaders) {
  TrustedProxies trusted({"10.0.0.0/8"});
  EXPECT_EQ(client_ip("192.0.2.1", "198.51.100.1", "198.51.100.2", trusted), "192.0.2.1");
}

TEST(ClientIp, TrustedPeerRightmostUntrustedHopWins) {
  TrustedProxies trusted({"10.0.0.0/8", "fd00::/8"});
  EXPECT_EQ(client_ip("10.0.0.5", "203.0.113.9, 198.51.100.1, 10.2.3.4", "", trusted),
            "198.51.100.1");
  EXPECT_EQ(client_ip("fd00::1", "2001:db8::7", "", trusted), "2001:db8::7");
  // Every hop trusted, or garbage: X-Real-IP, then the peer.
  EXPECT_EQ(client_ip("10.0.0.5", "10.9.9.9", "198.51.100.3", trusted), "198.51.100.3");
  EXPECT_EQ(client_ip("10.0.0.5", "not-an-ip", "", trusted), "10.0.0.5");
  EXPECT_EQ(client_ip("10.0.0.5", "", "", trusted), "10.0.0.5");
}

TEST(ClientIp, PrefixesMatchBitwise) {
  TrustedProxies trusted({"192.168.4.0/22", "127.0.0.1/32"});
  EXPECT_TRUE(trusted.contains(boost::asio::ip::make_address("192.168.7.255")));
  EXPECT_FALSE(trusted.contains(boost::asio::ip::make_address("192.168.8.0")));
  EXPECT_TRUE(trusted.contains(boost::asio::ip::make_address("127.0.0.1")));
  EXPECT_FALSE(trusted.contains(boost::asio::ip::make_address("127.0.0.2")));
  EXPECT_FALSE(trusted.contains(boost::asio::ip::make_address("::1")));
}

TEST(ClientIp, MalformedCidrIsRejected) {
  EXPECT_THROW(TrustedProxies({"10.0.0.0"}), std::invalid_argument);
  EXPECT_THROW(TrustedProxies({"10.0.0.0/33"}), std::invalid_argument);
  EXPECT_THROW(TrustedProxies({"nope/8"}), std::invalid_argument);
}

}  // namespace
}  // namespace blockyard::http
