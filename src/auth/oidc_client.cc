#include "auth/oidc_client.h"

#include <spdlog/spdlog.h>

#include "auth/jwt.h"
#include "core/base64.h"
#include "core/crypto.h"

namespace blockyard::auth {

using nlohmann::json;

namespace {

constexpr auto kLeeway = std::chrono::seconds(60);

std::string without_trailing_slash(std::string url) {
  while (url.size() > 1 && url.back() == '/') url.pop_back();
  return url;
}

std::string string_member(const json& doc, const char* name) {
  auto it = doc.find(name);
  return it != doc.end() && it->is_string() ? it->get<std::string>() : std::string();
}

bool list_contains(const json& doc, const char* name, const char* value) {
  auto it = doc.find(name);
  if (it == doc.end() || !it->is_array()) return false;
  for (const auto& v : *it) {
    if (v.is_string() && v.get<std::string>() == value) return true;
  }
  return false;
}

std::string append_query(const std::string& url,
                         const std::vector<std::pair<std::string, std::string>>& params) {
  std::string out = url;
  char sep = url.find('?') == std::string::npos ? '?' : '&';
  for (const auto& [name, value] : params) {
    out += sep;
    out += name + "=" + form_encode(value);
    sep = '&';
  }
  return out;
}

std::optional<std::int64_t> numeric_claim(const json& claims, const char* name) {
  auto it = claims.find(name);
  if (it == claims.end()) return std::nullopt;
  if (it->is_number_integer()) return it->get<std::int64_t>();
  if (it->is_number()) return static_cast<std::int64_t>(it->get<double>());
  throw OidcError(std::string("ID token claim \"") + name + "\" is not a number");
}

std::int64_t unix_seconds(OidcClient::Clock::time_point t) {
  return std::chrono::duration_cast<std::chrono::seconds>(t.time_since_epoch()).count();
}

// The error an OAuth endpoint answered, for messages ("invalid_grant: ...").
std::string oauth_error(const HttpReply& reply) {
  auto doc = json::parse(reply.body, nullptr, false);
  std::string text = "HTTP " + std::to_string(reply.status);
  if (doc.is_object()) {
    std::string error = string_member(doc, "error");
    std::string description = string_member(doc, "error_description");
    if (!error.empty()) text += ": " + error;
    if (!description.empty()) text += " (" + description + ")";
  }
  return text;
}

}  // namespace

std::string url_origin(const std::string& url) {
  auto scheme_end = url.find("://");
  if (scheme_end == std::string::npos) return {};
  std::string scheme = url.substr(0, scheme_end);
  if (scheme != "http" && scheme != "https") return {};
  auto path = url.find_first_of("/?#", scheme_end + 3);
  return url.substr(0, path);
}

std::string make_code_verifier() {
  return base64url_encode(random_bytes(32));
}

std::string code_challenge_s256(const std::string& verifier) {
  return base64url_encode(sha256(verifier));
}

OidcClient::OidcClient(OidcSettings settings, std::shared_ptr<HttpFetcher> http)
    : settings_(std::move(settings)), http_(std::move(http)) {
  settings_.issuer_url = without_trailing_slash(settings_.issuer_url);
  if (!settings_.discovery_url.empty()) {
    settings_.discovery_url = without_trailing_slash(settings_.discovery_url);
  }
}

std::string OidcClient::server_side(const std::string& url) const {
  if (settings_.discovery_url.empty() || !url.starts_with(settings_.issuer_url)) return url;
  return settings_.discovery_url + url.substr(settings_.issuer_url.size());
}

std::string OidcClient::browser_side(const std::string& url) const {
  if (settings_.discovery_url.empty()) return url;
  std::string internal = url_origin(settings_.discovery_url);
  if (internal.empty() || url_origin(url) != internal) return url;
  return url_origin(settings_.issuer_url) + url.substr(internal.size());
}

json OidcClient::fetch_json(const HttpCall& call, const char* what) {
  HttpReply reply;
  try {
    reply = http_->fetch(call);
  } catch (const HttpFetchError& e) {
    throw OidcUnavailable(std::string(what) + ": " + e.what());
  }
  if (reply.status >= 500) {
    throw OidcUnavailable(std::string(what) + ": " + call.url + " answered " + oauth_error(reply));
  }
  if (reply.status != 200) {
    throw OidcError(std::string(what) + ": " + call.url + " answered " + oauth_error(reply));
  }
  auto doc = json::parse(reply.body, nullptr, false);
  if (doc.is_discarded() || !doc.is_object()) {
    throw OidcError(std::string(what) + ": " + call.url + " did not answer a JSON object");
  }
  return doc;
}

void OidcClient::discover() {
  const std::string base =
      settings_.discovery_url.empty() ? settings_.issuer_url : settings_.discovery_url;
  HttpCall call;
  call.url = base + "/.well-known/openid-configuration";
  call.headers = {{"Accept", "application/json"}};
  json doc = fetch_json(call, "OIDC discovery");

  std::string issuer = string_member(doc, "issuer");
  if (without_trailing_slash(issuer) != settings_.issuer_url) {
    throw OidcError("OIDC discovery: " + call.url + " describes issuer \"" + issuer +
                    "\", but oidc.issuer_url is \"" + settings_.issuer_url + "\"");
  }
  ProviderMetadata m;
  m.issuer = issuer;
  for (const char* required : {"authorization_endpoint", "token_endpoint", "jwks_uri"}) {
    if (string_member(doc, required).empty()) {
      throw OidcError(std::string("OIDC discovery: ") + call.url + " has no " + required);
    }
  }
  m.authorization_endpoint = browser_side(string_member(doc, "authorization_endpoint"));
  m.token_endpoint = server_side(string_member(doc, "token_endpoint"));
  m.jwks_uri = server_side(string_member(doc, "jwks_uri"));
  m.userinfo_endpoint = server_side(string_member(doc, "userinfo_endpoint"));
  m.end_session_endpoint = browser_side(string_member(doc, "end_session_endpoint"));
  if (doc.contains("token_endpoint_auth_methods_supported") &&
      !list_contains(doc, "token_endpoint_auth_methods_supported", "client_secret_basic") &&
      list_contains(doc, "token_endpoint_auth_methods_supported", "client_secret_post")) {
    m.token_auth_basic = false;
  }
  if (doc.contains("code_challenge_methods_supported") &&
      !list_contains(doc, "code_challenge_methods_supported", "S256")) {
    spdlog::warn("oidc: the provider does not list PKCE S256 support; sending it anyway");
  }
  metadata_ = std::move(m);
  load_keys();
}

void OidcClient::load_keys() {
  HttpCall call;
  call.url = metadata_.jwks_uri;
  call.headers = {{"Accept", "application/json"}};
  json doc = fetch_json(call, "OIDC signing keys");
  std::vector<PublicKey> keys;
  try {
    keys = parse_jwks(doc);
  } catch (const std::invalid_argument& e) {
    throw OidcError("OIDC signing keys: " + call.url + ": " + e.what());
  }
  if (keys.empty()) throw OidcError("OIDC signing keys: " + call.url + " has no usable key");
  std::lock_guard lock(keys_mu_);
  keys_ = std::move(keys);
  keys_loaded_ = std::chrono::steady_clock::now();
}

std::vector<PublicKey> OidcClient::keys_snapshot() {
  std::lock_guard lock(keys_mu_);
  return keys_;
}

std::string OidcClient::authorization_url(const std::string& state, const std::string& nonce,
                                          const std::string& code_challenge) const {
  std::string scope;
  for (const auto& s : settings_.scopes) scope += (scope.empty() ? "" : " ") + s;
  return append_query(metadata_.authorization_endpoint, {{"response_type", "code"},
                                                         {"client_id", settings_.client_id},
                                                         {"redirect_uri", settings_.redirect_uri},
                                                         {"scope", scope},
                                                         {"state", state},
                                                         {"nonce", nonce},
                                                         {"code_challenge", code_challenge},
                                                         {"code_challenge_method", "S256"}});
}

TokenSet OidcClient::token_request(const std::string& form, const char* what) {
  HttpCall call;
  call.method = "POST";
  call.url = metadata_.token_endpoint;
  call.headers = {{"Content-Type", "application/x-www-form-urlencoded"},
                  {"Accept", "application/json"}};
  call.body = form;
  if (metadata_.token_auth_basic) {
    call.headers.emplace_back("Authorization",
                              "Basic " + base64_encode(form_encode(settings_.client_id) + ":" +
                                                       form_encode(settings_.client_secret)));
  } else {
    call.body += "&client_id=" + form_encode(settings_.client_id) +
                 "&client_secret=" + form_encode(settings_.client_secret);
  }
  json doc = fetch_json(call, what);
  TokenSet tokens;
  tokens.access_token = string_member(doc, "access_token");
  tokens.refresh_token = string_member(doc, "refresh_token");
  tokens.id_token = string_member(doc, "id_token");
  if (tokens.access_token.empty()) {
    throw OidcError(std::string(what) + ": the token endpoint returned no access_token");
  }
  if (auto it = doc.find("expires_in"); it != doc.end()) {
    if (it->is_number()) {
      tokens.expires_in = std::chrono::seconds(static_cast<std::int64_t>(it->get<double>()));
    } else if (it->is_string()) {
      try {
        tokens.expires_in = std::chrono::seconds(std::stoll(it->get<std::string>()));
      } catch (const std::exception&) {
      }
    }
  }
  return tokens;
}

TokenSet OidcClient::exchange_code(const std::string& code, const std::string& code_verifier) {
  TokenSet tokens = token_request("grant_type=authorization_code&code=" + form_encode(code) +
                                      "&redirect_uri=" + form_encode(settings_.redirect_uri) +
                                      "&code_verifier=" + form_encode(code_verifier),
                                  "OIDC code exchange");
  if (tokens.id_token.empty()) {
    throw OidcError("OIDC code exchange: the token endpoint returned no id_token");
  }
  return tokens;
}

TokenSet OidcClient::refresh(const std::string& refresh_token) {
  if (refresh_token.empty()) throw OidcError("OIDC refresh: no refresh token");
  return token_request("grant_type=refresh_token&refresh_token=" + form_encode(refresh_token),
                       "OIDC refresh");
}

json OidcClient::verify_id_token(const std::string& id_token,
                                 const std::optional<std::string>& expected_nonce,
                                 Clock::time_point now) {
  Jws jws;
  try {
    jws = parse_jws(id_token);
    try {
      verify_with_keys(jws, keys_snapshot());
    } catch (const JwtError& first) {
      // The provider may have rotated its keys since we fetched them.
      bool stale;
      {
        std::lock_guard lock(keys_mu_);
        stale = std::chrono::steady_clock::now() - keys_loaded_ >= settings_.key_refetch_interval;
      }
      if (!stale) throw;
      load_keys();
      verify_with_keys(jws, keys_snapshot());
    }
  } catch (const JwtError& e) {
    throw OidcError(std::string("ID token: ") + e.what());
  }
  const json& claims = jws.claims;
  if (string_member(claims, "iss") != metadata_.issuer) {
    throw OidcError("ID token: issuer \"" + string_member(claims, "iss") + "\" is not \"" +
                    metadata_.issuer + "\"");
  }
  bool audience_ok = false;
  std::size_t audiences = 0;
  if (auto aud = claims.find("aud"); aud != claims.end()) {
    if (aud->is_string()) {
      audiences = 1;
      audience_ok = aud->get<std::string>() == settings_.client_id;
    } else if (aud->is_array()) {
      for (const auto& a : *aud) {
        ++audiences;
        if (a.is_string() && a.get<std::string>() == settings_.client_id) audience_ok = true;
      }
    }
  }
  if (!audience_ok) throw OidcError("ID token: not issued for client_id " + settings_.client_id);
  if (claims.contains("azp") || audiences > 1) {
    if (string_member(claims, "azp") != settings_.client_id) {
      throw OidcError("ID token: authorized party is not " + settings_.client_id);
    }
  }
  const std::int64_t t = unix_seconds(now);
  auto exp = numeric_claim(claims, "exp");
  if (!exp) throw OidcError("ID token: no expiry");
  if (*exp + kLeeway.count() < t) throw OidcError("ID token: expired");
  if (auto iat = numeric_claim(claims, "iat"); iat && *iat - kLeeway.count() > t) {
    throw OidcError("ID token: issued in the future");
  }
  if (auto nbf = numeric_claim(claims, "nbf"); nbf && *nbf - kLeeway.count() > t) {
    throw OidcError("ID token: not valid yet");
  }
  if (string_member(claims, "sub").empty()) throw OidcError("ID token: no subject (sub)");
  if (expected_nonce && string_member(claims, "nonce") != *expected_nonce) {
    throw OidcError("ID token: nonce mismatch");
  }
  return claims;
}

json OidcClient::userinfo(const std::string& access_token) {
  if (metadata_.userinfo_endpoint.empty()) return json::object();
  HttpCall call;
  call.url = metadata_.userinfo_endpoint;
  call.headers = {{"Accept", "application/json"}, {"Authorization", "Bearer " + access_token}};
  return fetch_json(call, "OIDC userinfo");
}

std::optional<std::string> OidcClient::end_session_url(
    const std::string& id_token_hint, const std::string& post_logout_redirect_uri) const {
  const std::string& endpoint = metadata_.end_session_endpoint;
  // Only the issuer's own origin: a discovery document cannot send signed-out
  // users elsewhere.
  if (endpoint.empty() || url_origin(endpoint) != url_origin(settings_.issuer_url)) {
    return std::nullopt;
  }
  std::vector<std::pair<std::string, std::string>> params = {{"client_id", settings_.client_id}};
  if (!id_token_hint.empty()) params.emplace_back("id_token_hint", id_token_hint);
  if (!post_logout_redirect_uri.empty()) {
    params.emplace_back("post_logout_redirect_uri", post_logout_redirect_uri);
  }
  return append_query(endpoint, params);
}

}  // namespace blockyard::auth
