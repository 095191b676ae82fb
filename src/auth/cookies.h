// The sign-in cookies and their signed contents (control-plane spec §1.3).
//
//   blockyard_session     {"sub", "sid", "issued_at"}: who signed in, which
//                         sign-in (a random id whose SHA-256 keys the
//                         server-side session row), and when
//   blockyard_oidc_state  {"csrf_token", "nonce", "return_url",
//                         "code_verifier"}: the sign-in in progress (5 min)
//
// Both are HttpOnly, SameSite=Lax, Path=/, and Secure when the server's
// external_url is https. Pure functions; thread safe.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace blockyard::auth {

inline constexpr std::string_view kSessionCookie = "blockyard_session";
inline constexpr std::string_view kStateCookie = "blockyard_oidc_state";
inline constexpr std::chrono::seconds kStateCookieMaxAge{300};

struct SessionCookie {
  std::string sub;
  std::string sid;             // random, hex; the store keeps only its SHA-256
  std::int64_t issued_at = 0;  // unix seconds
};

struct StateCookie {
  std::string csrf_token;  // the OAuth "state" parameter
  std::string nonce;
  std::string return_url;
  std::string code_verifier;  // PKCE
};

std::string encode_session_cookie(std::string_view key, const SessionCookie& cookie);
// nullopt unless the signature verifies and every field has its type.
std::optional<SessionCookie> decode_session_cookie(std::string_view key, std::string_view value);

std::string encode_state_cookie(std::string_view key, const StateCookie& cookie);
std::optional<StateCookie> decode_state_cookie(std::string_view key, std::string_view value);

// "name=value; Path=/; HttpOnly; SameSite=Lax; Max-Age=N[; Secure]".
std::string set_cookie_header(std::string_view name, std::string_view value,
                              std::chrono::seconds max_age, bool secure);
// Expires the cookie now: "name=; Path=/; HttpOnly; Max-Age=0[; Secure]".
std::string clear_cookie_header(std::string_view name, bool secure);

// Value of cookie `name` in a Cookie request header, if present.
std::optional<std::string> find_cookie(std::string_view cookie_header, std::string_view name);

}  // namespace blockyard::auth
