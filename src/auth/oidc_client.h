// OidcClient: blockyard as an OpenID Connect relying party (authorization
// code flow with PKCE, control-plane spec §1.4).
//
// discover() reads the provider's /.well-known/openid-configuration and its
// JWK Set; the server calls it at start-up and refuses to start when it
// fails. With issuer_discovery_url set (the provider is reached through an
// internal address), every server-side request to a URL under issuer_url is
// sent under issuer_discovery_url instead, and endpoints the browser visits
// are rewritten the other way, to the public issuer.
//
// ID tokens are verified here: signature against the JWK Set (refetched
// once when a token names an unknown key, at most every 10 s), "iss" equal
// to the discovered issuer, "aud" containing client_id ("azp" too when there
// are several audiences), "exp" in the future and "iat"/"nbf" not in the
// future (60 s leeway each), "sub" present, and the nonce when one is given.
//
// (key_refetch_interval in OidcSettings.)
//
// Thread safety: every method may be called from any thread after
// discover(). Failure: OidcError, whose message says which step failed and
// never contains a token or the client secret.
#pragma once

#include <chrono>
#include <memory>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "auth/http_fetch.h"
#include "auth/jwk.h"

namespace blockyard::auth {

class OidcError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// The provider could not be reached, timed out or answered 5xx: the same
// request may work later (a refresh is retried rather than ending the
// sign-in).
class OidcUnavailable : public OidcError {
 public:
  using OidcError::OidcError;
};

struct OidcSettings {
  std::string issuer_url;
  std::string discovery_url;  // "" = issuer_url
  std::string client_id;
  std::string client_secret;
  std::string redirect_uri;  // <external_url>/callback
  std::vector<std::string> scopes = {"openid", "profile", "email", "offline_access"};
  // An ID token naming an unknown key refetches the JWK Set at most this often.
  std::chrono::milliseconds key_refetch_interval{10000};
};

struct ProviderMetadata {
  std::string issuer;
  std::string authorization_endpoint;  // public (browser) form
  std::string token_endpoint;          // server-side form
  std::string jwks_uri;                // server-side form
  std::string userinfo_endpoint;       // server-side form; may be empty
  std::string end_session_endpoint;    // public form; may be empty
  bool token_auth_basic = true;        // client_secret_basic, else client_secret_post
};

struct TokenSet {
  std::string access_token;
  std::string refresh_token;  // "" when none was issued
  std::string id_token;       // "" when none was issued (refresh may omit it)
  std::optional<std::chrono::seconds> expires_in;
};

class OidcClient {
 public:
  using Clock = std::chrono::system_clock;

  OidcClient(OidcSettings settings, std::shared_ptr<HttpFetcher> http);

  // Fetches discovery and the JWK Set. Throws OidcError naming the URL.
  void discover();
  const ProviderMetadata& metadata() const { return metadata_; }
  const OidcSettings& settings() const { return settings_; }

  // The authorization request URL for the browser (response_type=code,
  // S256 code challenge).
  std::string authorization_url(const std::string& state, const std::string& nonce,
                                const std::string& code_challenge) const;

  // Token requests. Throw OidcError (unreachable provider, error answer,
  // missing access token; exchange_code also a missing id_token).
  TokenSet exchange_code(const std::string& code, const std::string& code_verifier);
  TokenSet refresh(const std::string& refresh_token);

  // Verifies an ID token (see above) and returns its claims. With
  // `expected_nonce`, the token's nonce must equal it.
  nlohmann::json verify_id_token(const std::string& id_token,
                                 const std::optional<std::string>& expected_nonce,
                                 Clock::time_point now = Clock::now());

  // The userinfo claims for `access_token`; an empty object when the
  // provider has no userinfo endpoint. Throws OidcError on failure.
  nlohmann::json userinfo(const std::string& access_token);

  // RP-initiated logout URL, or nullopt when the provider offers none (or
  // offers one on another origin than its issuer).
  std::optional<std::string> end_session_url(const std::string& id_token_hint,
                                             const std::string& post_logout_redirect_uri) const;

 private:
  std::string server_side(const std::string& url) const;
  std::string browser_side(const std::string& url) const;
  nlohmann::json fetch_json(const HttpCall& call, const char* what);
  TokenSet token_request(const std::string& form, const char* what);
  void load_keys();
  std::vector<PublicKey> keys_snapshot();

  OidcSettings settings_;
  std::shared_ptr<HttpFetcher> http_;
  ProviderMetadata metadata_;
  std::mutex keys_mu_;
  std::vector<PublicKey> keys_;
  std::chrono::steady_clock::time_point keys_loaded_{};
};

// PKCE (RFC 7636): a fresh verifier, and its S256 challenge.
std::string make_code_verifier();
std::string code_challenge_s256(const std::string& verifier);

// Origin ("scheme://host[:port]") of an http(s) URL; "" when it is not one.
std::string url_origin(const std::string& url);

}  // namespace blockyard::auth
