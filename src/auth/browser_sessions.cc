#include "auth/browser_sessions.h"

#include <spdlog/spdlog.h>

#include "auth/cookies.h"
#include "core/crypto.h"
#include "core/error.h"
#include "store/timestamp.h"

namespace blockyard::auth {

namespace {

BrowserSessions::Clock::time_point parse_time(const std::string& text) {
  // An unreadable stored time counts as already past: fail closed.
  return store::parse_rfc3339(text).value_or(BrowserSessions::Clock::time_point{});
}

std::int64_t unix_seconds(BrowserSessions::Clock::time_point t) {
  return std::chrono::duration_cast<std::chrono::seconds>(t.time_since_epoch()).count();
}

}  // namespace

BrowserSessions::BrowserSessions(BrowserSessionOptions options, store::Store& store,
                                 OidcClient* oidc, RunAsync run_async)
    : options_(std::move(options)), store_(store), oidc_(oidc), run_async_(std::move(run_async)) {}

void BrowserSessions::set_listener(AccessListener* listener) {
  std::lock_guard lock(mu_);
  listener_ = listener;
}

std::string BrowserSessions::clear_cookie_header() const {
  return auth::clear_cookie_header(kSessionCookie, options_.secure_cookies);
}

std::optional<std::string> BrowserSessions::session_id_of(std::string_view cookie_value) const {
  auto cookie = decode_session_cookie(options_.cookie_key, cookie_value);
  if (!cookie) return std::nullopt;
  return sha256_hex(cookie->sid);
}

std::string BrowserSessions::start(const std::string& sub, const std::vector<std::string>& groups,
                                   const TokenSet& tokens, Clock::time_point now) {
  std::string sid = sha256_hex(random_bytes(32));
  store::UserSession session;
  session.id = sha256_hex(sid);
  session.sub = sub;
  session.groups = groups;
  session.access_token = tokens.access_token;
  session.refresh_token = tokens.refresh_token;
  session.id_token = tokens.id_token;
  session.token_expires_at =
      store::format_rfc3339(now + tokens.expires_in.value_or(kDefaultTokenLifetime));
  session.created_at = store::format_rfc3339(now);
  session.expires_at = store::format_rfc3339(now + options_.max_age);
  store_.create_session(session);
  std::string value =
      encode_session_cookie(options_.cookie_key, SessionCookie{sub, sid, unix_seconds(now)});
  return set_cookie_header(kSessionCookie, value, options_.max_age, options_.secure_cookies);
}

bool BrowserSessions::refresh_due(Clock::time_point token_expires_at, Clock::time_point now) const {
  return oidc_ != nullptr && token_expires_at - now < kRefreshAhead;
}

SessionCheck BrowserSessions::invalid(const std::string& session_id) {
  if (!session_id.empty()) forget(session_id);
  return SessionCheck{std::nullopt, true};
}

std::optional<SessionCheck> BrowserSessions::check_cached(std::string_view cookie_value,
                                                          Clock::time_point now) {
  auto cookie = decode_session_cookie(options_.cookie_key, cookie_value);
  if (!cookie) return SessionCheck{std::nullopt, true};
  if (now - Clock::time_point(std::chrono::seconds(cookie->issued_at)) > options_.max_age) {
    return SessionCheck{std::nullopt, true};
  }
  const std::string id = sha256_hex(cookie->sid);
  bool kick_refresh = false;
  SessionCheck answer;
  {
    std::lock_guard lock(mu_);
    auto it = cache_.find(id);
    if (it == cache_.end()) return std::nullopt;
    const Cached& c = it->second;
    if (c.change_count != store_.change_count() ||
        std::chrono::steady_clock::now() - c.checked > options_.cache_ttl || now >= c.expires_at ||
        c.caller.sub != cookie->sub) {
      return std::nullopt;
    }
    // A due refresh runs in the background; check() decides whether an
    // expired token must be refreshed before answering.
    if (c.refreshable && refresh_due(c.token_expires_at, now)) {
      if (now >= c.token_expires_at) return std::nullopt;
      kick_refresh = true;
    }
    answer.caller = c.caller;
  }
  if (kick_refresh) refresh_in_background(id);
  return answer;
}

SessionCheck BrowserSessions::check(std::string_view cookie_value, Clock::time_point now,
                                    RefreshMode mode) {
  auto cookie = decode_session_cookie(options_.cookie_key, cookie_value);
  if (!cookie) return SessionCheck{std::nullopt, true};
  const Clock::time_point issued{std::chrono::seconds(cookie->issued_at)};
  if (now - issued > options_.max_age || issued - now > kRefreshAhead) {
    return SessionCheck{std::nullopt, true};
  }
  const std::string id = sha256_hex(cookie->sid);
  const std::uint64_t change_count = store_.change_count();

  auto session = store_.get_session(id);
  if (!session || session->sub != cookie->sub) return invalid(id);
  Clock::time_point expires_at = parse_time(session->expires_at);
  if (now >= expires_at) {
    store_.delete_session(id);
    notify_ended(id);
    return invalid(id);
  }
  auto user = store_.get_user(session->sub);
  if (!user || !user->active) {
    // A deactivated user's sessions end; reactivation means signing in again.
    store_.delete_session(id);
    notify_ended(id);
    return invalid(id);
  }

  Clock::time_point token_expires_at = parse_time(session->token_expires_at);
  const bool refreshable = !session->refresh_token.empty();
  if (refreshable && refresh_due(token_expires_at, now)) {
    if (now >= token_expires_at && mode == RefreshMode::wait) {
      if (!refresh(id, now)) return invalid(id);
      if (auto updated = store_.get_session(id)) {
        token_expires_at = parse_time(updated->token_expires_at);
      }
    } else {
      refresh_in_background(id);
    }
  }

  Caller caller;
  caller.sub = user->sub;
  caller.name = user->name.empty() ? user->sub : user->name;
  caller.role = user->role;
  caller.credential = Credential::session;
  caller.groups = session->groups;
  caller.session_id = id;
  {
    std::lock_guard lock(mu_);
    cache_[id] = Cached{caller,      expires_at,   token_expires_at,
                        refreshable, change_count, std::chrono::steady_clock::now()};
  }
  return SessionCheck{caller, false};
}

std::shared_ptr<std::mutex> BrowserSessions::refresh_lock(const std::string& session_id) {
  std::lock_guard lock(mu_);
  auto& slot = refresh_locks_[session_id];
  if (!slot) slot = std::make_shared<std::mutex>();
  return slot;
}

void BrowserSessions::refresh_in_background(const std::string& session_id) {
  {
    std::lock_guard lock(mu_);
    if (!run_async_ || !refreshing_.insert(session_id).second) return;
  }
  run_async_([this, session_id] {
    refresh(session_id, Clock::now());
    std::lock_guard lock(mu_);
    refreshing_.erase(session_id);
  });
}

bool BrowserSessions::refresh(const std::string& session_id, Clock::time_point now) {
  // One refresh per session at a time: providers that rotate refresh tokens
  // invalidate the old one on first use.
  auto lock_handle = refresh_lock(session_id);
  std::lock_guard serial(*lock_handle);
  auto session = store_.get_session(session_id);
  if (!session) return false;
  if (!refresh_due(parse_time(session->token_expires_at), now)) return true;    // done meanwhile
  if (now.time_since_epoch().count() < provider_retry_at_.load()) return true;  // see below
  try {
    TokenSet tokens = oidc_->refresh(session->refresh_token);
    if (!tokens.id_token.empty()) {
      auto claims = oidc_->verify_id_token(tokens.id_token, std::nullopt, now);
      if (claims.value("sub", "") != session->sub) {
        throw OidcError("OIDC refresh: the new ID token is for another subject");
      }
    }
    std::string expires =
        store::format_rfc3339(now + tokens.expires_in.value_or(kDefaultTokenLifetime));
    if (!store_.update_session_tokens(session_id, tokens.access_token, tokens.refresh_token,
                                      expires)) {
      return false;
    }
    spdlog::debug("oidc: refreshed the tokens of a session of {}", session->sub);
    return true;
  } catch (const OidcUnavailable& e) {
    // Keep the sign-in: the provider being down is no reason to sign
    // everyone out. Leave it alone for a while: each try may have cost a
    // request the whole fetch timeout.
    provider_retry_at_ = (now + kProviderRetryPause).time_since_epoch().count();
    spdlog::warn("oidc: could not refresh a session of {} (next try in {} s): {}", session->sub,
                 kProviderRetryPause.count(), e.what());
    return true;
  } catch (const OidcError& e) {
    spdlog::info("oidc: refresh refused for a session of {}, signing it out: {}", session->sub,
                 e.what());
    store_.delete_session(session_id);
    notify_ended(session_id);
    forget(session_id);
    return false;
  }
}

void BrowserSessions::forget(const std::string& session_id) {
  std::lock_guard lock(mu_);
  cache_.erase(session_id);
  refresh_locks_.erase(session_id);
}

void BrowserSessions::notify_ended(const std::string& session_id) {
  AccessListener* listener;
  {
    std::lock_guard lock(mu_);
    listener = listener_;
  }
  if (listener) listener->session_ended(session_id);
}

std::optional<BrowserSessions::Ended> BrowserSessions::end(std::string_view cookie_value) {
  auto cookie = decode_session_cookie(options_.cookie_key, cookie_value);
  if (!cookie) return std::nullopt;
  const std::string id = sha256_hex(cookie->sid);
  auto session = store_.get_session(id);
  forget(id);
  if (!session) return std::nullopt;
  store_.delete_session(id);
  notify_ended(id);
  return Ended{session->sub, session->id_token};
}

void BrowserSessions::end_all(const std::string& sub) {
  store_.delete_user_sessions(sub);
  AccessListener* listener;
  {
    std::lock_guard lock(mu_);
    for (auto it = cache_.begin(); it != cache_.end();) {
      if (it->second.caller.sub == sub) {
        refresh_locks_.erase(it->first);
        it = cache_.erase(it);
      } else {
        ++it;
      }
    }
    listener = listener_;
  }
  if (listener) listener->user_signed_out(sub);
}

int BrowserSessions::sweep_expired(Clock::time_point now) {
  auto ids = store_.delete_expired_sessions(store::format_rfc3339(now));
  for (const auto& id : ids) {
    forget(id);
    notify_ended(id);
  }
  return static_cast<int>(ids.size());
}

}  // namespace blockyard::auth
