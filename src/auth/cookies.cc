#include "auth/cookies.h"

#include <nlohmann/json.hpp>

#include "auth/signed_token.h"

namespace blockyard::auth {

using nlohmann::json;

namespace {

std::optional<std::string> string_field(const json& j, const char* name) {
  auto it = j.find(name);
  if (it == j.end() || !it->is_string()) return std::nullopt;
  return it->get<std::string>();
}

}  // namespace

std::string encode_session_cookie(std::string_view key, const SessionCookie& cookie) {
  json payload;
  payload["sub"] = cookie.sub;
  payload["sid"] = cookie.sid;
  payload["issued_at"] = cookie.issued_at;
  return sign_json(key, payload);
}

std::optional<SessionCookie> decode_session_cookie(std::string_view key, std::string_view value) {
  auto payload = verify_json(key, value);
  if (!payload) return std::nullopt;
  auto sub = string_field(*payload, "sub");
  auto sid = string_field(*payload, "sid");
  auto issued = payload->find("issued_at");
  if (!sub || sub->empty() || !sid || sid->empty() || issued == payload->end() ||
      !issued->is_number_integer()) {
    return std::nullopt;
  }
  return SessionCookie{*sub, *sid, issued->get<std::int64_t>()};
}

std::string encode_state_cookie(std::string_view key, const StateCookie& cookie) {
  json payload;
  payload["csrf_token"] = cookie.csrf_token;
  payload["nonce"] = cookie.nonce;
  payload["return_url"] = cookie.return_url;
  payload["code_verifier"] = cookie.code_verifier;
  return sign_json(key, payload);
}

std::optional<StateCookie> decode_state_cookie(std::string_view key, std::string_view value) {
  auto payload = verify_json(key, value);
  if (!payload) return std::nullopt;
  auto csrf = string_field(*payload, "csrf_token");
  auto nonce = string_field(*payload, "nonce");
  auto ret = string_field(*payload, "return_url");
  auto verifier = string_field(*payload, "code_verifier");
  if (!csrf || csrf->empty() || !nonce || !ret || !verifier || verifier->empty()) {
    return std::nullopt;
  }
  return StateCookie{*csrf, *nonce, *ret, *verifier};
}

std::string set_cookie_header(std::string_view name, std::string_view value,
                              std::chrono::seconds max_age, bool secure) {
  std::string header =
      std::string(name) + "=" + std::string(value) +
      "; Path=/; HttpOnly; SameSite=Lax; Max-Age=" + std::to_string(max_age.count());
  if (secure) header += "; Secure";
  return header;
}

std::string clear_cookie_header(std::string_view name, bool secure) {
  std::string header = std::string(name) + "=; Path=/; HttpOnly; Max-Age=0";
  if (secure) header += "; Secure";
  return header;
}

std::optional<std::string> find_cookie(std::string_view header, std::string_view name) {
  while (!header.empty()) {
    auto semi = header.find(';');
    std::string_view pair = header.substr(0, semi);
    while (!pair.empty() && (pair.front() == ' ' || pair.front() == '\t')) pair.remove_prefix(1);
    auto eq = pair.find('=');
    if (eq != std::string_view::npos && pair.substr(0, eq) == name) {
      std::string_view value = pair.substr(eq + 1);
      while (!value.empty() && (value.back() == ' ' || value.back() == '\t'))
        value.remove_suffix(1);
      return std::string(value);
    }
    if (semi == std::string_view::npos) break;
    header.remove_prefix(semi + 1);
  }
  return std::nullopt;
}

}  // namespace blockyard::auth
