// Signed JSON tokens: the format of the session cookie and the sign-in state
// cookie (control-plane spec §0):
//
//   base64url_nopad(json) "." base64url_nopad(HMAC-SHA256(key, json))
//
// The browser can read a signed token but not forge or alter one. Keys are
// derived from server.session_secret with a label per use, so a token signed
// for one use never verifies as another.
//
// Pure functions; thread safe.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

namespace blockyard::auth {

// Labels of the derived keys (the original's, for compatibility).
inline constexpr std::string_view kCookieKeyLabel = "blockyard-cookie-signing";
inline constexpr std::string_view kSessionTokenKeyLabel = "blockyard-session-token";

// HMAC-SHA256(key = secret, message = label): 32 raw bytes.
std::string derive_key(std::string_view secret, std::string_view label);

std::string sign_json(std::string_view key, const nlohmann::json& payload);

// The payload, if `token` is well formed, its MAC matches `key` (compared in
// constant time) and the payload is a JSON object; otherwise nullopt.
std::optional<nlohmann::json> verify_json(std::string_view key, std::string_view token);

}  // namespace blockyard::auth
