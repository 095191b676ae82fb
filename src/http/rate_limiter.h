// RateLimiter: per-key request limits over a sliding one-minute window, and
// RateLimitPolicy, which decides what counts. Limits count what costs the
// server, per client IP:
//   * new app sessions (each starts an R worker): proxy.app_rate_limit_per_minute;
//     the data plane asks admit_new_session() when it is about to open one,
//     so the page's assets, its WebSocket, reloads of a live session and the
//     loading page's polling never count;
//   * API calls under /api/v1: proxy.api_rate_limit_per_minute (the caller's
//     own /users/me and credential exchange 20/min; bootstrap and packages
//     exempt);
//   * sign-ins (/callback, approving `by login` at POST /login/cli):
//     proxy.auth_rate_limit_per_minute.
// Health, readiness, metrics, "/" and the /app paths themselves are never
// counted by admit().
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
  int auth_per_minute = 30;       // sign-ins: /callback, POST /login/cli
  int api_per_minute = 120;       // /api/v1/... ; 0 = unlimited
  int app_per_minute = 60;        // new app sessions; 0 = unlimited
  int user_self_per_minute = 20;  // /api/v1/users/me[/...], POST /api/v1/credentials/vault
  std::vector<std::string> trusted_proxies;  // CIDRs, see client_ip.h
};

class RateLimitPolicy {
 public:
  // Throws std::invalid_argument for a malformed trusted_proxies entry.
  explicit RateLimitPolicy(const RateLimitSettings& settings);

  // The client a request is counted for: client_ip() over the peer address
  // and forwarding headers, with the configured trusted proxies.
  std::string client_of(std::string_view peer_ip, std::string_view forwarded_for,
                        std::string_view real_ip) const;

  // The 429 answer for this request, or nullopt when it may proceed (or
  // does not count). `path` is the decoded path without the query.
  std::optional<Response> admit(std::string_view method, std::string_view path,
                                std::string_view peer_ip, std::string_view forwarded_for,
                                std::string_view real_ip);

  // Counts a new app session for `client`; the 429 answer (a page when
  // `html`, else the JSON error) when it is over the limit.
  std::optional<Response> admit_new_session(std::string_view client, bool html);

 private:
  RateLimiter* limiter_for(std::string_view method, std::string_view path);

  TrustedProxies trusted_;
  std::unique_ptr<RateLimiter> auth_;
  std::unique_ptr<RateLimiter> api_;
  std::unique_ptr<RateLimiter> app_;
  std::unique_ptr<RateLimiter> user_self_;
};

}  // namespace blockyard::http
