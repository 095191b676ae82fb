// Signed tokens and the sign-in cookies (control-plane spec §8.1 items 12,
// 13, 24), return_url sanitising (item 3) and the CSRF origin rule.
#include <gtest/gtest.h>

#include "auth/cookies.h"
#include "auth/csrf.h"
#include "auth/return_url.h"
#include "auth/signed_token.h"
#include "core/base64.h"

namespace blockyard::auth {
namespace {

using nlohmann::json;

const std::string kKey = derive_key("a-session-secret-of-at-least-32-chars", kCookieKeyLabel);

TEST(SignedToken, RoundTripsAndIsDeterministic) {
  json payload = {{"sub", "alice"}, {"issued_at", 1700000000}};
  std::string token = sign_json(kKey, payload);
  EXPECT_EQ(token, sign_json(kKey, payload)) << "same secret, same encoding";
  auto back = verify_json(kKey, token);
  ASSERT_TRUE(back);
  EXPECT_EQ((*back)["sub"], "alice");
}

TEST(SignedToken, RejectsTamperingWrongKeysAndGarbage) {
  std::string token = sign_json(kKey, json{{"sub", "alice"}});
  auto dot = token.find('.');
  std::string forged_payload = base64url_encode(json{{"sub", "admin"}}.dump()) + token.substr(dot);
  EXPECT_FALSE(verify_json(kKey, forged_payload)) << "tampered payload";
  std::string forged_mac = token;
  forged_mac.back() = forged_mac.back() == 'A' ? 'B' : 'A';
  EXPECT_FALSE(verify_json(kKey, forged_mac)) << "tampered signature";
  EXPECT_FALSE(
      verify_json(derive_key("another-secret-of-at-least-32-characters", kCookieKeyLabel), token))
      << "wrong key";
  EXPECT_FALSE(verify_json(kKey, "no-dot-here"));
  EXPECT_FALSE(verify_json(kKey, "."));
  EXPECT_FALSE(verify_json(kKey, "!!!." + token.substr(dot + 1))) << "bad base64";
  // Raw-byte keys work as well as derived ones.
  EXPECT_TRUE(verify_json("raw key bytes", sign_json("raw key bytes", json{{"a", 1}})));
}

TEST(SignedToken, KeysForDifferentUsesDoNotVerifyEachOther) {
  const std::string secret = "a-session-secret-of-at-least-32-chars";
  std::string cookie_key = derive_key(secret, kCookieKeyLabel);
  std::string session_key = derive_key(secret, kSessionTokenKeyLabel);
  EXPECT_FALSE(verify_json(session_key, sign_json(cookie_key, json{{"sub", "a"}})));
  EXPECT_FALSE(verify_json(cookie_key, sign_json(session_key, json{{"sub", "a"}})));
}

TEST(Cookies, SessionCookieRoundTripAndTypeChecks) {
  SessionCookie c{"alice", "0123abcd", 1700000000};
  auto back = decode_session_cookie(kKey, encode_session_cookie(kKey, c));
  ASSERT_TRUE(back);
  EXPECT_EQ(back->sub, "alice");
  EXPECT_EQ(back->sid, "0123abcd");
  EXPECT_EQ(back->issued_at, 1700000000);
  EXPECT_FALSE(decode_session_cookie(kKey, sign_json(kKey, json{{"sub", "a"}, {"sid", "x"}})))
      << "issued_at missing";
  EXPECT_FALSE(decode_session_cookie(
      kKey, sign_json(kKey, json{{"sub", 5}, {"sid", "x"}, {"issued_at", 1}})))
      << "sub of the wrong type";
}

TEST(Cookies, StateCookieRejectsMissingTamperedAndMalformed) {
  StateCookie s{"state123", "nonce456", "/app/x/", "verifier"};
  auto back = decode_state_cookie(kKey, encode_state_cookie(kKey, s));
  ASSERT_TRUE(back);
  EXPECT_EQ(back->csrf_token, "state123");
  EXPECT_EQ(back->nonce, "nonce456");
  EXPECT_EQ(back->return_url, "/app/x/");
  EXPECT_EQ(back->code_verifier, "verifier");
  std::string good = encode_state_cookie(kKey, s);
  EXPECT_FALSE(decode_state_cookie(kKey, good.substr(0, good.find('.')))) << "no dot";
  EXPECT_FALSE(decode_state_cookie(kKey, good + "x")) << "tampered signature";
  EXPECT_FALSE(decode_state_cookie(kKey, "%%%." + good.substr(good.find('.') + 1))) << "bad base64";
}

TEST(Cookies, HeadersCarryTheRightAttributes) {
  EXPECT_EQ(set_cookie_header("blockyard_session", "v", std::chrono::seconds(86400), false),
            "blockyard_session=v; Path=/; HttpOnly; SameSite=Lax; Max-Age=86400");
  EXPECT_EQ(set_cookie_header("blockyard_oidc_state", "v", std::chrono::seconds(300), true),
            "blockyard_oidc_state=v; Path=/; HttpOnly; SameSite=Lax; Max-Age=300; Secure");
  EXPECT_EQ(clear_cookie_header("blockyard_session", false),
            "blockyard_session=; Path=/; HttpOnly; Max-Age=0");
  EXPECT_EQ(clear_cookie_header("blockyard_session", true),
            "blockyard_session=; Path=/; HttpOnly; Max-Age=0; Secure");
}

TEST(Cookies, FindCookieInAHeader) {
  EXPECT_EQ(find_cookie("a=1; blockyard_session=xyz; b=2", "blockyard_session"), "xyz");
  EXPECT_EQ(find_cookie("blockyard_session=", "blockyard_session"), "");
  EXPECT_FALSE(find_cookie("xblockyard_session=1", "blockyard_session"));
  EXPECT_FALSE(find_cookie("", "blockyard_session"));
}

TEST(ReturnUrl, KeepsLocalPathsOnly) {
  EXPECT_EQ(sanitize_return_url("/app/sales/?tab=2"), "/app/sales/?tab=2");
  EXPECT_EQ(sanitize_return_url("/"), "/");
  for (const char* evil :
       {"https://evil.com/", "//evil.com", "//evil.com/app/", "/\\evil.com", "\\\\evil.com",
        "evil.com", "javascript:alert(1)", "", "/app\r\nX: y", "/\t/evil.com", "http:/evil.com"}) {
    EXPECT_EQ(sanitize_return_url(evil), "/") << evil;
  }
}

TEST(Csrf, UnsafeCookieRequestsMustComeFromOurOrigin) {
  const std::string own = "https://by.example.com";
  using O = std::optional<std::string>;
  EXPECT_TRUE(is_same_origin_request("GET", O("cross-site"), O("https://evil.com"), own));
  EXPECT_TRUE(is_same_origin_request("POST", O("same-origin"), std::nullopt, own));
  EXPECT_TRUE(is_same_origin_request("POST", O("none"), std::nullopt, own));
  EXPECT_FALSE(is_same_origin_request("POST", O("same-site"), O(own), own))
      << "a sibling origin of the same site is still another origin";
  EXPECT_FALSE(is_same_origin_request("DELETE", O("cross-site"), std::nullopt, own));
  EXPECT_TRUE(is_same_origin_request("PATCH", std::nullopt, O(own), own));
  EXPECT_FALSE(is_same_origin_request("PATCH", std::nullopt, O("https://evil.com"), own));
  EXPECT_FALSE(is_same_origin_request("POST", std::nullopt, O("null"), own));
  EXPECT_FALSE(is_same_origin_request("POST", std::nullopt, std::nullopt, own))
      << "no evidence of the origin at all";
  // The same rule, whatever the method (WebSocket handshakes are GETs).
  EXPECT_TRUE(comes_from_own_origin(O("same-origin"), O("https://evil.com"), own));
  EXPECT_TRUE(comes_from_own_origin(std::nullopt, O(own), own));
  EXPECT_FALSE(comes_from_own_origin(O("same-site"), O(own), own));
  EXPECT_FALSE(comes_from_own_origin(std::nullopt, O("https://evil.com"), own));
  EXPECT_FALSE(comes_from_own_origin(std::nullopt, std::nullopt, own));
}

}  // namespace
}  // namespace blockyard::auth
