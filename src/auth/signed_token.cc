#include "auth/signed_token.h"

#include "core/base64.h"
#include "core/crypto.h"

namespace blockyard::auth {

std::string derive_key(std::string_view secret, std::string_view label) {
  return hmac_sha256(secret, label);
}

std::string sign_json(std::string_view key, const nlohmann::json& payload) {
  std::string body = payload.dump();
  return base64url_encode(body) + "." + base64url_encode(hmac_sha256(key, body));
}

std::optional<nlohmann::json> verify_json(std::string_view key, std::string_view token) {
  auto dot = token.find('.');
  if (dot == std::string_view::npos) return std::nullopt;
  auto body = base64url_decode(token.substr(0, dot));
  auto mac = base64url_decode(token.substr(dot + 1));
  if (!body || !mac || body->empty()) return std::nullopt;
  if (!constant_time_equal(*mac, hmac_sha256(key, *body))) return std::nullopt;
  auto payload = nlohmann::json::parse(*body, nullptr, /*allow_exceptions=*/false);
  if (payload.is_discarded() || !payload.is_object()) return std::nullopt;
  return payload;
}

}  // namespace blockyard::auth
