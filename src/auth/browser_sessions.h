// BrowserSessions: the server side of a browser sign-in.
//
// A sign-in creates a random session id; the blockyard_session cookie
// carries it signed (with the user's sub and the sign-in time), and the
// store keeps a user_sessions row under the id's SHA-256 with the IdP's
// tokens. Each browser has its own session: signing out ends only that one,
// and sessions survive a server restart (unlike the original's in-memory map
// keyed by sub).
//
// A cookie is accepted when its signature verifies, it is younger than
// cookie_max_age, its session row exists and has not expired, and the user
// exists and is active; the caller's role is the user's current one.
// When the IdP's access token is within 60 s of expiring and a refresh token
// exists, it is refreshed: in the background while the token is still
// valid, before answering once it has expired. A refresh the provider
// refuses ends the session; an unreachable provider does not (refreshes
// are tried again after kProviderRetryPause).
//
// check_cached() answers from memory without touching the store or the IdP
// (the data plane calls it on its I/O threads); entries are trusted while
// the store's change_count() is unchanged and for at most a few seconds.
//
// Thread safety: every method may be called from any thread.
#pragma once

#include <atomic>
#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "auth/caller.h"
#include "auth/oidc_client.h"
#include "store/store.h"

namespace blockyard::auth {

struct BrowserSessionOptions {
  std::string cookie_key;                   // derive_key(session_secret, kCookieKeyLabel)
  std::chrono::seconds max_age{24 * 3600};  // oidc.cookie_max_age
  bool secure_cookies = false;              // external_url is https
  std::chrono::seconds cache_ttl{5};
};

// Told when signed-in access ends, so that open connections (app
// WebSockets) can be closed.
class AccessListener {
 public:
  virtual ~AccessListener() = default;
  virtual void session_ended(const std::string& session_id) = 0;
  virtual void user_signed_out(const std::string& sub) = 0;  // every session of the user
};

struct SessionCheck {
  std::optional<Caller> caller;  // empty: treat the request as anonymous
  bool clear_cookie = false;     // the cookie is no longer valid: expire it
};

class BrowserSessions {
 public:
  using Clock = std::chrono::system_clock;
  using RunAsync = std::function<void(std::function<void()>)>;

  // `oidc` may be null (no refresh). `run_async` runs background refreshes
  // off the caller's thread; jobs must finish before this object goes.
  BrowserSessions(BrowserSessionOptions options, store::Store& store, OidcClient* oidc,
                  RunAsync run_async);
  BrowserSessions(const BrowserSessions&) = delete;
  BrowserSessions& operator=(const BrowserSessions&) = delete;

  void set_listener(AccessListener* listener);

  // A new session for `sub` (who must exist). Returns the Set-Cookie header.
  std::string start(const std::string& sub, const std::vector<std::string>& groups,
                    const TokenSet& tokens, Clock::time_point now = Clock::now());

  // When an expired access token is refreshed: before answering (API and
  // sign-in handlers), or in the background while the request proceeds on
  // the sign-in as it stands (the data plane, which must not wait on the
  // IdP; a refused refresh then ends the session a moment later).
  enum class RefreshMode { wait, background };

  // Authenticates a blockyard_session cookie value. Blocks on the store
  // and, in RefreshMode::wait when the access token has expired, on the IdP.
  SessionCheck check(std::string_view cookie_value, Clock::time_point now = Clock::now(),
                     RefreshMode mode = RefreshMode::wait);
  // The same answer from memory, or nullopt when it needs check().
  std::optional<SessionCheck> check_cached(std::string_view cookie_value,
                                           Clock::time_point now = Clock::now());

  // Sign-out: ends the session the cookie names (signature checked, age
  // not). Returns the signed-out user's sub and the ID token to hint the
  // IdP with, when there was a session.
  struct Ended {
    std::string sub;
    std::string id_token;
  };
  std::optional<Ended> end(std::string_view cookie_value);
  // Ends every session of `sub` (deactivation).
  void end_all(const std::string& sub);

  // Deletes expired sessions (telling the listener); returns how many.
  int sweep_expired(Clock::time_point now = Clock::now());

  std::string clear_cookie_header() const;
  std::chrono::seconds max_age() const { return options_.max_age; }
  const std::string& cookie_key() const { return options_.cookie_key; }

  // The store id of a cookie's session (SHA-256 hex of its random id), if
  // the cookie's signature verifies.
  std::optional<std::string> session_id_of(std::string_view cookie_value) const;

 private:
  struct Cached {
    Caller caller;
    Clock::time_point expires_at;
    Clock::time_point token_expires_at;
    bool refreshable = false;
    std::uint64_t change_count = 0;
    std::chrono::steady_clock::time_point checked;
  };

  SessionCheck invalid(const std::string& session_id);
  bool refresh_due(Clock::time_point token_expires_at, Clock::time_point now) const;
  void refresh_in_background(const std::string& session_id);
  // Refreshes the session's tokens if still due. False when the session ended.
  bool refresh(const std::string& session_id, Clock::time_point now);
  std::shared_ptr<std::mutex> refresh_lock(const std::string& session_id);
  void forget(const std::string& session_id);
  void notify_ended(const std::string& session_id);

  BrowserSessionOptions options_;
  store::Store& store_;
  OidcClient* oidc_;
  RunAsync run_async_;

  std::mutex mu_;
  std::unordered_map<std::string, Cached> cache_;
  std::map<std::string, std::shared_ptr<std::mutex>> refresh_locks_;
  std::set<std::string> refreshing_;  // background refreshes queued or running
  // Clock::rep of the time before which refreshes skip an unreachable provider.
  std::atomic<Clock::rep> provider_retry_at_{0};
  AccessListener* listener_ = nullptr;
};

// Time left before a refresh is due: refresh when less than this remains.
inline constexpr std::chrono::seconds kRefreshAhead{60};
// After the provider fails to answer a refresh, refreshes skip it this long
// (sessions carry on as they are), so that an unreachable provider costs one
// request its timeout, not every request of every signed-in user.
inline constexpr std::chrono::seconds kProviderRetryPause{30};
// Access-token lifetime assumed when the IdP states none.
inline constexpr std::chrono::seconds kDefaultTokenLifetime{300};

}  // namespace blockyard::auth
