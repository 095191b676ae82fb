// The OIDC client against a simulated provider (test_provider.h): discovery,
// split discovery URLs, token requests, ID-token checks and key rotation.
#include "auth/oidc_client.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "auth/test_provider.h"
#include "core/base64.h"

namespace blockyard::auth {
namespace {

using nlohmann::json;
using testing::FakeProvider;
using ::testing::HasSubstr;

OidcSettings settings_for(const FakeProvider& idp) {
  OidcSettings s;
  s.issuer_url = idp.issuer_;
  s.client_id = idp.client_id;
  s.client_secret = idp.client_secret;
  s.redirect_uri = "https://by.example.com/callback";
  return s;
}

struct Fixture {
  std::shared_ptr<FakeProvider> idp = std::make_shared<FakeProvider>();
  std::unique_ptr<OidcClient> client;
  Fixture() {
    client = std::make_unique<OidcClient>(settings_for(*idp), idp);
    client->discover();
  }
};

std::string query_value(const std::string& url, const std::string& name) {
  auto pos = url.find(name + "=");
  if (pos == std::string::npos) return {};
  auto end = url.find('&', pos);
  return url.substr(pos + name.size() + 1,
                    end == std::string::npos ? end : end - pos - name.size() - 1);
}

TEST(OidcClient, DiscoversEndpointsAndKeys) {
  Fixture f;
  EXPECT_EQ(f.client->metadata().issuer, "https://idp.example");
  EXPECT_EQ(f.client->metadata().token_endpoint, "https://idp.example/token");
  EXPECT_EQ(f.idp->jwks_requests, 1);
}

TEST(OidcClient, DiscoveryFailuresNameTheUrl) {
  auto idp = std::make_shared<FakeProvider>();
  idp->unreachable = true;
  OidcClient client(settings_for(*idp), idp);
  try {
    client.discover();
    FAIL();
  } catch (const OidcUnavailable& e) {
    EXPECT_THAT(e.what(), HasSubstr("https://idp.example/.well-known/openid-configuration"));
  }
  idp->unreachable = false;
  idp->reported_issuer = "https://other.example";
  try {
    client.discover();
    FAIL();
  } catch (const OidcError& e) {
    EXPECT_THAT(e.what(), HasSubstr("describes issuer \"https://other.example\""));
  }
}

TEST(OidcClient, AuthorizationUrlCarriesStateNonceAndPkce) {
  Fixture f;
  std::string verifier = make_code_verifier();
  std::string url = f.client->authorization_url("st", "nc", code_challenge_s256(verifier));
  EXPECT_THAT(url, ::testing::StartsWith("https://idp.example/auth?response_type=code&"));
  EXPECT_EQ(query_value(url, "client_id"), "blockyard");
  EXPECT_EQ(query_value(url, "redirect_uri"), "https%3A%2F%2Fby.example.com%2Fcallback");
  EXPECT_EQ(query_value(url, "scope"), "openid%20profile%20email%20offline_access");
  EXPECT_EQ(query_value(url, "state"), "st");
  EXPECT_EQ(query_value(url, "nonce"), "nc");
  EXPECT_EQ(query_value(url, "code_challenge_method"), "S256");
  EXPECT_EQ(query_value(url, "code_challenge").size(), 43u);
  EXPECT_EQ(verifier.size(), 43u);
  // RFC 7636 appendix B test vector.
  EXPECT_EQ(code_challenge_s256("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"),
            "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM");
}

TEST(OidcClient, CodeExchangeSendsVerifierAndClientCredentials) {
  Fixture f;
  TokenSet tokens = f.client->exchange_code("the-code", "the-verifier");
  EXPECT_EQ(tokens.access_token, "access-1");
  EXPECT_EQ(tokens.refresh_token, "refresh-1");
  EXPECT_FALSE(tokens.id_token.empty());
  EXPECT_EQ(tokens.expires_in, std::chrono::seconds(3600));
  const HttpCall& call = f.idp->calls.back();
  EXPECT_EQ(call.method, "POST");
  EXPECT_THAT(call.body, HasSubstr("grant_type=authorization_code"));
  EXPECT_THAT(call.body, HasSubstr("code=the-code"));
  EXPECT_THAT(call.body, HasSubstr("code_verifier=the-verifier"));
  EXPECT_EQ(f.idp->last_authorization(), "Basic " + base64_encode("blockyard:client-secret"));
}

TEST(OidcClient, TokenErrorsSayWhatTheProviderAnswered) {
  Fixture f;
  f.idp->token_status = 400;
  try {
    f.client->exchange_code("c", "v");
    FAIL();
  } catch (const OidcUnavailable&) {
    FAIL() << "a refusal is not an outage";
  } catch (const OidcError& e) {
    EXPECT_THAT(e.what(), HasSubstr("HTTP 400: invalid_grant"));
    EXPECT_THAT(e.what(), ::testing::Not(HasSubstr("client-secret")));
  }
  f.idp->token_status = 503;
  EXPECT_THROW(f.client->refresh("r"), OidcUnavailable);
  f.idp->token_status = 200;
  f.idp->unreachable = true;
  EXPECT_THROW(f.client->refresh("r"), OidcUnavailable);
}

TEST(OidcClient, VerifiesIdTokenClaims) {
  Fixture f;
  json good = f.idp->standard_claims();
  good["nonce"] = "n1";
  EXPECT_EQ(f.client->verify_id_token(f.idp->make_id_token(good), std::string("n1"))["sub"],
            "test-sub");

  auto rejected = [&](json claims, const std::string& why, std::optional<std::string> nonce = {}) {
    try {
      f.client->verify_id_token(f.idp->make_id_token(claims), nonce);
      ADD_FAILURE() << "accepted, expected: " << why;
    } catch (const OidcError& e) {
      EXPECT_THAT(e.what(), HasSubstr(why));
    }
  };
  json c = good;
  c["iss"] = "https://evil.example";
  rejected(c, "issuer");
  c = good;
  c["aud"] = "someone-else";
  rejected(c, "not issued for client_id");
  c = good;
  c["aud"] = json::array({"blockyard", "other"});
  rejected(c, "authorized party");
  c["azp"] = "blockyard";
  EXPECT_NO_THROW(f.client->verify_id_token(f.idp->make_id_token(c), std::nullopt));
  c = good;
  c["exp"] = c["iat"].get<long long>() - 3600;
  rejected(c, "expired");
  c = good;
  c["iat"] = c["iat"].get<long long>() + 600;
  rejected(c, "future");
  c = good;
  c.erase("sub");
  rejected(c, "no subject");
  rejected(good, "nonce mismatch", std::string("other"));
}

TEST(OidcClient, RefetchesKeysAfterRotationButNotOnEveryFailure) {
  Fixture f;
  f.idp->rotate_key("key-2");
  std::string token = f.idp->make_id_token(f.idp->standard_claims());
  // The keys were fetched just now: a miss within 10 s does not refetch.
  EXPECT_THROW(f.client->verify_id_token(token, std::nullopt), OidcError);
  EXPECT_EQ(f.idp->jwks_requests, 1);

  // Past the interval, an unknown kid triggers one refetch and verifies.
  OidcSettings s = settings_for(*f.idp);
  s.key_refetch_interval = std::chrono::milliseconds(0);
  OidcClient eager(s, f.idp);
  f.idp->rotate_key("key-1");
  eager.discover();
  f.idp->rotate_key("key-3");
  const int before = f.idp->jwks_requests;
  EXPECT_NO_THROW(
      eager.verify_id_token(f.idp->make_id_token(f.idp->standard_claims()), std::nullopt));
  EXPECT_EQ(f.idp->jwks_requests, before + 1);
}

TEST(OidcClient, SplitDiscoveryRewritesServerAndBrowserUrls) {
  // The provider is reached at an internal address but names its public
  // issuer everywhere.
  auto idp = std::make_shared<FakeProvider>("http://idp.internal:8080");
  idp->reported_issuer = "https://login.example.com";
  OidcSettings s = settings_for(*idp);
  s.issuer_url = "https://login.example.com";
  s.discovery_url = "http://idp.internal:8080";
  OidcClient client(s, idp);
  client.discover();
  // Browser-facing endpoints point at the public origin...
  EXPECT_EQ(client.metadata().authorization_endpoint, "https://login.example.com/auth");
  // ...server-side ones stay internal.
  EXPECT_EQ(client.metadata().token_endpoint, "http://idp.internal:8080/token");
  EXPECT_NO_THROW(client.exchange_code("c", "v"));
  EXPECT_EQ(idp->calls.back().url, "http://idp.internal:8080/token");
}

TEST(OidcClient, EndSessionUrlOnlyOnTheIssuersOrigin) {
  Fixture f;
  auto url = f.client->end_session_url("the-id-token", "https://by.example.com/signed-out");
  ASSERT_TRUE(url);
  EXPECT_THAT(*url, ::testing::StartsWith("https://idp.example/session/end?client_id=blockyard"));
  EXPECT_THAT(*url, HasSubstr("id_token_hint=the-id-token"));
  EXPECT_THAT(*url,
              HasSubstr("post_logout_redirect_uri=https%3A%2F%2Fby.example.com%2Fsigned-out"));

  auto idp = std::make_shared<FakeProvider>();
  idp->with_end_session = false;
  OidcClient none(settings_for(*idp), idp);
  none.discover();
  EXPECT_FALSE(none.end_session_url("t", "https://x/"));
}

}  // namespace
}  // namespace blockyard::auth
