// RateLimiter: per-key request limits over a sliding one-minute window, and
// RateLimitPolicy, which maps request paths to the original's limit groups
// (/api/v1 120/min, /api/v1/users/me and credential exchange 20/min, /app
// 200/min, auth endpoints proxy.auth_rate_limit_per_minute; health, metrics,
// bootstrap and packages exempt).
//
// The window is the "sliding counter" approximation: the count of the
// current fixed window plus the previous window's count weighted by how much
// of it still overlaps the last `window`. Memory is bounded: at most
// `max_keys` keys are tracked; the least recently seen key is forgotten
// first (keys idle for two windows carry no weight anyway).
//
// Thread safety: every method may be called from any thread.
#pragma once

#include <chrono>
#include <cstddef>
#include <list>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "http/client_ip.h"
#include "http/message.h"

namespace blockyard::http {

class RateLimiter {
 public:
  using Clock = std::chrono::steady_clock;

  struct Decision {
    bool allowed = true;
    std::chrono::seconds retry_after{0};  // when refused: a wait after which one request fits
  };

  // `limit` requests per `window` per key; limit must be >= 1.
  explicit RateLimiter(int limit, std::chrono::seconds window = std::chrono::minutes(1),
                       std::size_t max_keys = 65536);
  RateLimiter(const RateLimiter&) = delete;
  RateLimiter& operator=(const RateLimiter&) = delete;

  // Counts a request for `key` at `now` if it fits under the limit.
  Decision check(std::string_view key, Clock::time_point now = Clock::now());

  std::size_t tracked_keys() const;

 private:
  struct Counter {
    std::string key;
    Clock::time_point window_start;
    int current = 0;
    int previous = 0;
  };
  void roll(Counter& counter, Clock::time_point now) const;
  double weighted(const Counter& counter, Clock::time_point now) const;
  std::chrono::seconds wait_for_slot(const Counter& counter, Clock::time_point now) const;

  const int limit_;
  const Clock::duration window_;
  const std::size_t max_keys_;
  mutable std::mutex mu_;
  std::list<Counter> lru_;  // most recently seen first
  std::unordered_map<std::string_view, std::list<Counter>::iterator> index_;
};

struct RateLimitSettings {
  int auth_per_minute = 10;       // /login, /callback, /logout
  int api_per_minute = 120;       // /api/v1/... ; 0 = unlimited
  int app_per_minute = 200;       // /app/... ; 0 = unlimited
  int user_self_per_minute = 20;  // /api/v1/users/me[/...], POST /api/v1/credentials/vault
  std::vector<std::string> trusted_proxies;  // CIDRs, see client_ip.h
};

class RateLimitPolicy {
 public:
  // Throws std::invalid_argument for a malformed trusted_proxies entry.
  explicit RateLimitPolicy(const RateLimitSettings& settings);

  // The 429 answer for this request, or nullopt when it may proceed.
  // `path` is the decoded path without the query; the client is identified
  // by client_ip() over the peer address and forwarding headers.
  std::optional<Response> admit(std::string_view method, std::string_view path,
                                std::string_view peer_ip, std::string_view forwarded_for,
                                std::string_view real_ip);

 private:
  RateLimiter* limiter_for(std::string_view method, std::string_view path);

  TrustedProxies trusted_;
  std::unique_ptr<RateLimiter> auth_;
  std::unique_ptr<RateLimiter> api_;
  std::unique_ptr<RateLimiter> app_;
  std::unique_ptr<RateLimiter> user_self_;
};

}  // namespace blockyard::http
