#include "http/client_ip.h"

#include <array>
#include <charconv>
#include <optional>
#include <stdexcept>

namespace blockyard::http {

namespace ip = boost::asio::ip;

namespace {

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

// Parses an address; IPv4-mapped IPv6 becomes IPv4 so one client has one key.
std::optional<ip::address> parse_address(std::string_view text) {
  boost::system::error_code ec;
  ip::address address = ip::make_address(std::string(trim(text)), ec);
  if (ec) return std::nullopt;
  if (address.is_v6() && address.to_v6().is_v4_mapped()) {
    return ip::address(ip::make_address_v4(ip::v4_mapped, address.to_v6()));
  }
  return address;
}

template <std::size_t N>
bool same_prefix(const std::array<unsigned char, N>& a, const std::array<unsigned char, N>& b,
                 unsigned prefix) {
  for (std::size_t i = 0; i < N && prefix > 0; ++i) {
    unsigned bits = prefix >= 8 ? 8 : prefix;
    auto mask = static_cast<unsigned char>(0xFF << (8 - bits));
    if ((a[i] & mask) != (b[i] & mask)) return false;
    prefix -= bits;
  }
  return true;
}

}  // namespace

TrustedProxies::TrustedProxies(const std::vector<std::string>& cidrs) {
  for (const auto& cidr : cidrs) {
    auto slash = cidr.find('/');
    auto base = parse_address(std::string_view(cidr).substr(0, slash));
    unsigned prefix = 0;
    bool ok = base && slash != std::string::npos;
    if (ok) {
      std::string_view bits = std::string_view(cidr).substr(slash + 1);
      auto [end, ec] = std::from_chars(bits.data(), bits.data() + bits.size(), prefix);
      ok = ec == std::errc() && end == bits.data() + bits.size() && !bits.empty() &&
           prefix <= (base->is_v4() ? 32u : 128u);
    }
    if (!ok) throw std::invalid_argument("invalid trusted proxy CIDR \"" + cidr + "\"");
    networks_.push_back({*base, prefix});
  }
}

bool TrustedProxies::contains(const ip::address& address) const {
  for (const auto& net : networks_) {
    if (net.base.is_v4() && address.is_v4()) {
      if (same_prefix(net.base.to_v4().to_bytes(), address.to_v4().to_bytes(), net.prefix)) {
        return true;
      }
    } else if (net.base.is_v6() && address.is_v6()) {
      if (same_prefix(net.base.to_v6().to_bytes(), address.to_v6().to_bytes(), net.prefix)) {
        return true;
      }
    }
  }
  return false;
}

std::string client_ip(std::string_view peer_ip, std::string_view forwarded_for,
                      std::string_view real_ip, const TrustedProxies& trusted) {
  auto peer = parse_address(peer_ip);
  if (!peer) return std::string(peer_ip);
  if (trusted.empty() || !trusted.contains(*peer)) return peer->to_string();
  // Right to left: each trusted hop appended the address it saw.
  while (!forwarded_for.empty()) {
    auto comma = forwarded_for.rfind(',');
    std::string_view entry =
        comma == std::string_view::npos ? forwarded_for : forwarded_for.substr(comma + 1);
    forwarded_for = comma == std::string_view::npos ? "" : forwarded_for.substr(0, comma);
    auto hop = parse_address(entry);
    if (!hop) break;  // garbage: stop believing the header
    if (!trusted.contains(*hop)) return hop->to_string();
  }
  if (auto real = parse_address(real_ip)) return real->to_string();
  return peer->to_string();
}

}  // namespace blockyard::http
