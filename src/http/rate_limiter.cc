#include "http/rate_limiter.h"

#include <cmath>
#include <stdexcept>

#include "http/user_pages.h"

namespace blockyard::http {

using namespace std::chrono;

RateLimiter::RateLimiter(int limit, seconds window, std::size_t max_keys)
    : limit_(limit), window_(window), max_keys_(max_keys) {
  if (limit < 1) throw std::invalid_argument("RateLimiter: limit must be at least 1");
  if (window.count() <= 0) throw std::invalid_argument("RateLimiter: window must be positive");
  if (max_keys < 1) throw std::invalid_argument("RateLimiter: max_keys must be at least 1");
}

// Moves the counter's fixed window forward to the one holding `now`.
void RateLimiter::roll(Counter& counter, Clock::time_point now) const {
  auto elapsed = now - counter.window_start;
  if (elapsed < window_) return;
  auto windows = elapsed / window_;
  counter.previous = windows == 1 ? counter.current : 0;
  counter.current = 0;
  counter.window_start += windows * window_;
}

double RateLimiter::weighted(const Counter& counter, Clock::time_point now) const {
  double into = duration<double>(now - counter.window_start) / duration<double>(window_);
  return counter.previous * (1.0 - into) + counter.current;
}

// How long until, with no further requests, one more would fit.
seconds RateLimiter::wait_for_slot(const Counter& counter, Clock::time_point now) const {
  const double w = duration<double>(window_).count();
  const double into = duration<double>(now - counter.window_start).count();
  double wait;
  if (counter.current < limit_ && counter.previous > 0) {
    // previous * (1 - t/w) + current + 1 <= limit, within this window.
    double t = w * (1.0 - static_cast<double>(limit_ - counter.current - 1) / counter.previous);
    wait = t - into;
  } else {
    // Next window: current becomes previous and fades from there.
    double s = w * (1.0 - static_cast<double>(limit_ - 1) / std::max(counter.current, 1));
    wait = (w - into) + std::max(0.0, s);
  }
  return seconds(std::max<std::int64_t>(1, static_cast<std::int64_t>(std::ceil(wait))));
}

RateLimiter::Decision RateLimiter::check(std::string_view key, Clock::time_point now) {
  std::lock_guard lock(mu_);
  auto found = index_.find(key);
  if (found == index_.end()) {
    if (lru_.size() >= max_keys_) {
      index_.erase(lru_.back().key);
      lru_.pop_back();
    }
    lru_.push_front(Counter{std::string(key), now, 0, 0});
    found = index_.emplace(lru_.front().key, lru_.begin()).first;
  } else {
    lru_.splice(lru_.begin(), lru_, found->second);
  }
  Counter& counter = *found->second;
  roll(counter, now);
  if (weighted(counter, now) + 1 > limit_ + 1e-9) {
    return {false, wait_for_slot(counter, now)};
  }
  ++counter.current;
  return {true, seconds(0)};
}

std::size_t RateLimiter::tracked_keys() const {
  std::lock_guard lock(mu_);
  return lru_.size();
}

namespace {

std::unique_ptr<RateLimiter> limiter(int per_minute) {
  if (per_minute <= 0) return nullptr;
  return std::make_unique<RateLimiter>(per_minute);
}

bool under(std::string_view path, std::string_view prefix) {
  return path == prefix || (path.starts_with(prefix) && path[prefix.size()] == '/');
}

}  // namespace

RateLimitPolicy::RateLimitPolicy(const RateLimitSettings& settings)
    : trusted_(settings.trusted_proxies),
      auth_(limiter(settings.auth_per_minute)),
      api_(limiter(settings.api_per_minute)),
      app_(limiter(settings.app_per_minute)),
      user_self_(limiter(settings.user_self_per_minute)) {}

std::string RateLimitPolicy::client_of(std::string_view peer_ip, std::string_view forwarded_for,
                                       std::string_view real_ip) const {
  return client_ip(peer_ip, forwarded_for, real_ip, trusted_);
}

RateLimiter* RateLimitPolicy::limiter_for(std::string_view method, std::string_view path) {
  // A sign-in costs a code exchange with the identity provider (or a new
  // token); starting one (/login) and signing out do not.
  if (path == "/callback" || (method == "POST" && path == "/login/cli")) return auth_.get();
  if (!under(path, "/api/v1")) return nullptr;  // health, readiness, metrics, pages, /app
  if (under(path, "/api/v1/bootstrap") || under(path, "/api/v1/packages")) return nullptr;
  if (under(path, "/api/v1/users/me")) return user_self_.get();
  if (method == "POST" && path == "/api/v1/credentials/vault") return user_self_.get();
  return api_.get();
}

namespace {

Response too_many(std::chrono::seconds retry_after, bool html, const std::string& text) {
  const std::string wait = std::to_string(retry_after.count());
  Response response = error_response(
      html, {429, "too_many_requests", "rate limit exceeded; retry after " + wait + " s",
             "Too many requests", text + " Please wait " + wait + " seconds and try again."});
  response.headers.set("Retry-After", wait);
  return response;
}

}  // namespace

std::optional<Response> RateLimitPolicy::admit(std::string_view method, std::string_view path,
                                               std::string_view peer_ip,
                                               std::string_view forwarded_for,
                                               std::string_view real_ip) {
  RateLimiter* limiter = limiter_for(method, path);
  if (limiter == nullptr) return std::nullopt;
  auto decision = limiter->check(client_of(peer_ip, forwarded_for, real_ip));
  if (decision.allowed) return std::nullopt;
  const bool sign_in = limiter == auth_.get();
  return too_many(decision.retry_after, sign_in,
                  sign_in ? "There were many sign-ins from your network in the last minute."
                          : "");
}

std::optional<Response> RateLimitPolicy::admit_new_session(std::string_view client, bool html) {
  if (!app_) return std::nullopt;
  auto decision = app_->check(client);
  if (decision.allowed) return std::nullopt;
  return too_many(decision.retry_after, html,
                  "Many app sessions were opened from your network in the last minute.");
}

}  // namespace blockyard::http
