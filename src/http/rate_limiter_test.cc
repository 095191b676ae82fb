#include "http/rate_limiter.h"

#include <gtest/gtest.h>

#include <atomic>
#include <thread>
#include <vector>

#include <nlohmann/json.hpp>

namespace blockyard::http {
namespace {

using namespace std::chrono_literals;
using Clock = RateLimiter::Clock;

TEST(RateLimiter, AllowsTheLimitPerWindowThenRefuses) {
  RateLimiter limiter(5, 60s);
  auto t0 = Clock::now();
  for (int i = 0; i < 5; ++i) EXPECT_TRUE(limiter.check("a", t0 + i * 1s).allowed) << i;
  auto refused = limiter.check("a", t0 + 6s);
  EXPECT_FALSE(refused.allowed);
  // All five were in this window. 54 s later it rolls over, and they still
  // weigh 5 until 12 s into the next window have faded them to 4.
  EXPECT_EQ(refused.retry_after, 66s);
  // Another key has its own budget.
  EXPECT_TRUE(limiter.check("b", t0 + 6s).allowed);
}

TEST(RateLimiter, PreviousWindowFadesOut) {
  RateLimiter limiter(10, 60s);
  auto t0 = Clock::now();
  for (int i = 0; i < 10; ++i) ASSERT_TRUE(limiter.check("ip", t0).allowed);
  // 15 s into the next window three quarters of the previous still count:
  // 7.5 + new requests must stay <= 10, so two fit and the third does not.
  auto t1 = t0 + 75s;
  EXPECT_TRUE(limiter.check("ip", t1).allowed);
  EXPECT_TRUE(limiter.check("ip", t1).allowed);
  auto refused = limiter.check("ip", t1);
  EXPECT_FALSE(refused.allowed);
  EXPECT_GE(refused.retry_after, 1s);
  EXPECT_LE(refused.retry_after, 60s);
  // After two idle windows nothing is left.
  for (int i = 0; i < 10; ++i) EXPECT_TRUE(limiter.check("ip", t0 + 200s).allowed);
}

TEST(RateLimiter, RetryAfterIsEnoughToGetThrough) {
  RateLimiter limiter(4, 60s);
  auto t0 = Clock::now();
  for (int i = 0; i < 4; ++i) ASSERT_TRUE(limiter.check("k", t0 + 70s).allowed);
  auto refused = limiter.check("k", t0 + 80s);
  ASSERT_FALSE(refused.allowed);
  EXPECT_FALSE(limiter.check("k", t0 + 80s + refused.retry_after - 2s).allowed);
  EXPECT_TRUE(limiter.check("k", t0 + 80s + refused.retry_after).allowed);
}

TEST(RateLimiter, MemoryIsBoundedByForgettingTheLeastRecentKey) {
  RateLimiter limiter(1, 60s, 3);
  auto t = Clock::now();
  EXPECT_TRUE(limiter.check("a", t).allowed);
  EXPECT_TRUE(limiter.check("b", t).allowed);
  EXPECT_TRUE(limiter.check("c", t).allowed);
  EXPECT_FALSE(limiter.check("a", t).allowed);  // "a" is now the most recent
  EXPECT_TRUE(limiter.check("d", t).allowed);   // evicts "b"
  EXPECT_EQ(limiter.tracked_keys(), 3u);
  EXPECT_FALSE(limiter.check("a", t).allowed);  // still remembered
  EXPECT_TRUE(limiter.check("b", t).allowed);   // forgotten, so counted afresh
}

TEST(RateLimiter, ConcurrentCallersNeverExceedTheLimit) {
  RateLimiter limiter(1000, 3600s);
  std::atomic<int> allowed{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 8; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < 500; ++i) {
        if (limiter.check("shared").allowed) ++allowed;
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(allowed.load(), 1000);
}

TEST(RateLimiter, RejectsNonsenseSettings) {
  EXPECT_THROW(RateLimiter(0), std::invalid_argument);
  EXPECT_THROW(RateLimiter(1, 0s), std::invalid_argument);
}

RateLimitSettings small_limits() {
  RateLimitSettings s;
  s.auth_per_minute = 1;
  s.api_per_minute = 3;
  s.app_per_minute = 2;
  s.user_self_per_minute = 1;
  s.trusted_proxies = {"10.0.0.0/8"};
  return s;
}

int admitted(RateLimitPolicy& policy, std::string_view method, std::string_view path, int tries,
             std::string_view peer = "192.0.2.1", std::string_view xff = "") {
  int n = 0;
  for (int i = 0; i < tries; ++i) {
    if (!policy.admit(method, path, peer, xff, "")) ++n;
  }
  return n;
}

TEST(RateLimitPolicy, CountsApiCallsAndSignInsButNotPagesOrAppRequests) {
  RateLimitPolicy policy(small_limits());
  EXPECT_EQ(admitted(policy, "GET", "/api/v1/apps", 10), 3);
  EXPECT_EQ(admitted(policy, "GET", "/api/v1/users/me", 10), 1);
  EXPECT_EQ(admitted(policy, "GET", "/callback", 10), 1);
  // App requests are counted by the data plane, once per new session.
  for (const char* exempt : {"/healthz", "/readyz", "/metrics", "/api/v1/bootstrap",
                             "/api/v1/packages/x", "/", "/login", "/logout", "/app/demo/",
                             "/app/demo/shared/shiny.min.js"}) {
    EXPECT_EQ(admitted(policy, "GET", exempt, 10), 10) << exempt;
  }
}

int sessions_admitted(RateLimitPolicy& policy, std::string_view client, int tries) {
  int n = 0;
  for (int i = 0; i < tries; ++i) {
    if (!policy.admit_new_session(client, false)) ++n;
  }
  return n;
}

TEST(RateLimitPolicy, NewSessionsHaveTheirOwnBudget) {
  RateLimitPolicy policy(small_limits());
  EXPECT_EQ(sessions_admitted(policy, "198.51.100.1", 5), 2);
  EXPECT_EQ(sessions_admitted(policy, "198.51.100.2", 5), 2);
  // Not shared with the API's.
  EXPECT_EQ(admitted(policy, "GET", "/api/v1/apps", 3, "198.51.100.1"), 3);
}

TEST(RateLimitPolicy, ZeroMeansUnlimited) {
  RateLimitSettings s = small_limits();
  s.api_per_minute = 0;
  s.app_per_minute = 0;
  RateLimitPolicy policy(s);
  EXPECT_EQ(admitted(policy, "GET", "/api/v1/apps", 50), 50);
  EXPECT_EQ(sessions_admitted(policy, "192.0.2.1", 50), 50);
}

TEST(RateLimitPolicy, ApiRefusalIsJson429WithRetryAfter) {
  RateLimitPolicy policy(small_limits());
  admitted(policy, "GET", "/api/v1/apps", 3);
  auto refusal = policy.admit("GET", "/api/v1/apps", "192.0.2.1", "", "");
  ASSERT_TRUE(refusal);
  EXPECT_EQ(refusal->status, 429);
  auto body = nlohmann::json::parse(refusal->body);
  EXPECT_EQ(body["error"], "too_many_requests");
  auto retry = refusal->headers.get("Retry-After");
  ASSERT_TRUE(retry);
  EXPECT_GE(std::stoi(*retry), 1);
}

TEST(RateLimitPolicy, SessionRefusalIsAPageForBrowsers) {
  RateLimitPolicy policy(small_limits());
  sessions_admitted(policy, "192.0.2.9", 2);
  auto page = policy.admit_new_session("192.0.2.9", true);
  ASSERT_TRUE(page);
  EXPECT_EQ(page->status, 429);
  EXPECT_EQ(page->headers.get("Content-Type"), "text/html; charset=utf-8");
  EXPECT_NE(page->body.find("Too many requests"), std::string::npos);
  EXPECT_TRUE(page->headers.get("Retry-After"));
  auto json = policy.admit_new_session("192.0.2.9", false);
  ASSERT_TRUE(json);
  EXPECT_EQ(nlohmann::json::parse(json->body)["error"], "too_many_requests");
}

TEST(RateLimitPolicy, ForwardedClientsCountSeparatelyOnlyBehindTrustedProxies) {
  RateLimitPolicy policy(small_limits());
  // Through the trusted proxy 10.1.1.1, two clients have two budgets.
  EXPECT_EQ(admitted(policy, "GET", "/api/v1/apps", 5, "10.1.1.1", "198.51.100.7"), 3);
  EXPECT_EQ(admitted(policy, "GET", "/api/v1/apps", 5, "10.1.1.1", "198.51.100.8"), 3);
  EXPECT_EQ(policy.client_of("10.1.1.1", "198.51.100.7", ""), "198.51.100.7");
  // An untrusted peer cannot escape its budget with a made-up header.
  EXPECT_EQ(admitted(policy, "GET", "/api/v1/apps", 3, "192.0.2.50", "198.51.100.9"), 3);
  EXPECT_EQ(admitted(policy, "GET", "/api/v1/apps", 5, "192.0.2.50", "198.51.100.10"), 0);
  EXPECT_EQ(policy.client_of("192.0.2.50", "198.51.100.10", ""), "192.0.2.50");
}

}  // namespace
}  // namespace blockyard::http
