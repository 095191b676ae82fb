// The client address a request is attributed to (rate limits, logs):
// forwarding headers are believed only from a trusted proxy.
//
// Thread safety: TrustedProxies is immutable after construction.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include <boost/asio/ip/address.hpp>

namespace blockyard::http {

class TrustedProxies {
 public:
  TrustedProxies() = default;
  // CIDRs like "10.0.0.0/8" or "fd00::/8". Throws std::invalid_argument
  // naming the entry when one is malformed.
  explicit TrustedProxies(const std::vector<std::string>& cidrs);

  bool empty() const { return networks_.empty(); }
  bool contains(const boost::asio::ip::address& address) const;

 private:
  struct Network {
    boost::asio::ip::address base;
    unsigned prefix = 0;
  };
  std::vector<Network> networks_;
};

// The TCP peer, unless the peer is a trusted proxy: then the right-most
// X-Forwarded-For entry that is not itself a trusted proxy, else X-Real-IP,
// else the peer. Malformed header entries are never believed. IPv4-mapped
// IPv6 addresses come back as plain IPv4.
std::string client_ip(std::string_view peer_ip, std::string_view forwarded_for,
                      std::string_view real_ip, const TrustedProxies& trusted);

}  // namespace blockyard::http
