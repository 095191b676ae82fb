// Test-only: an OpenID provider simulated behind the HttpFetcher seam, for
// unit tests of the client, sessions and sign-in logic (discovery, JWKS,
// token and userinfo endpoints). The real provider, npm oidc-provider, is
// what the integration and browser suites sign in through.
#pragma once

#include <functional>
#include <map>
#include <mutex>
#include <string>
#include <vector>

#include "auth/http_fetch.h"
#include "auth/test_keys.h"
#include "core/base64.h"

namespace blockyard::auth::testing {

class FakeProvider : public HttpFetcher {
 public:
  explicit FakeProvider(std::string issuer = "https://idp.example")
      : issuer_(std::move(issuer)), key_(TestKey::rsa()) {}

  // --- knobs ---
  std::string issuer_;
  std::string reported_issuer;  // "" = issuer_ (discovery's "issuer")
  std::string client_id = "blockyard";
  std::string client_secret = "client-secret";
  nlohmann::json id_claims = {{"sub", "test-sub"}, {"name", "Test User"}};
  nlohmann::json userinfo_claims = nlohmann::json::object();
  std::string nonce;  // put into the next ID token
  long token_status = 200;
  std::string token_error = "invalid_grant";
  bool unreachable = false;
  bool issue_refresh_token = true;
  int expires_in = 3600;
  bool with_end_session = true;
  std::string kid = "key-1";

  // --- what happened ---
  std::vector<HttpCall> calls;
  int token_requests = 0;
  int refresh_requests = 0;
  int jwks_requests = 0;

  // Rotates to a new signing key (old tokens stop verifying once the client
  // refetches the keys).
  void rotate_key(const std::string& new_kid) {
    std::lock_guard lock(mu_);
    key_ = TestKey::rsa();
    kid = new_kid;
  }

  std::string make_id_token(nlohmann::json claims) {
    std::lock_guard lock(mu_);
    return key_.sign("RS256", kid, claims);
  }

  nlohmann::json standard_claims() const {
    auto now = std::chrono::duration_cast<std::chrono::seconds>(
                   std::chrono::system_clock::now().time_since_epoch())
                   .count();
    nlohmann::json c = id_claims;
    c["iss"] = issuer_;
    c["aud"] = client_id;
    c["iat"] = now;
    c["exp"] = now + 3600;
    if (!nonce.empty()) c["nonce"] = nonce;
    return c;
  }

  HttpReply fetch(const HttpCall& call) override {
    {
      std::lock_guard lock(mu_);
      calls.push_back(call);
    }
    if (unreachable) throw HttpFetchError(call.url + ": Could not connect to server");
    const std::string base = issuer_;
    if (call.url == base + "/.well-known/openid-configuration") {
      nlohmann::json doc = {{"issuer", reported_issuer.empty() ? issuer_ : reported_issuer},
                            {"authorization_endpoint", base + "/auth"},
                            {"token_endpoint", base + "/token"},
                            {"jwks_uri", base + "/jwks"},
                            {"userinfo_endpoint", base + "/me"},
                            {"code_challenge_methods_supported", {"S256"}}};
      if (with_end_session) doc["end_session_endpoint"] = base + "/session/end";
      return {200, doc.dump()};
    }
    if (call.url == base + "/jwks") {
      std::lock_guard lock(mu_);
      ++jwks_requests;
      return {200, nlohmann::json{{"keys", {key_.jwk(kid, "RS256")}}}.dump()};
    }
    if (call.url == base + "/token") {
      bool refresh = call.body.find("grant_type=refresh_token") != std::string::npos;
      {
        std::lock_guard lock(mu_);
        ++token_requests;
        if (refresh) ++refresh_requests;
      }
      if (token_status != 200) {
        return {token_status, nlohmann::json{{"error", token_error}}.dump()};
      }
      nlohmann::json answer = {{"access_token", "access-" + std::to_string(token_requests)},
                               {"token_type", "Bearer"},
                               {"expires_in", expires_in}};
      if (issue_refresh_token)
        answer["refresh_token"] = "refresh-" + std::to_string(token_requests);
      if (!refresh) answer["id_token"] = make_id_token(standard_claims());
      return {200, answer.dump()};
    }
    if (call.url == base + "/me") {
      nlohmann::json info = userinfo_claims;
      if (!info.contains("sub")) info["sub"] = id_claims["sub"];
      return {200, info.dump()};
    }
    return {404, "{}"};
  }

  // The Authorization header of the last call, if any.
  std::string last_authorization() {
    std::lock_guard lock(mu_);
    for (const auto& [name, value] : calls.back().headers) {
      if (name == "Authorization") return value;
    }
    return {};
  }

 private:
  std::mutex mu_;
  TestKey key_;
};

}  // namespace blockyard::auth::testing
