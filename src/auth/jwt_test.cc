// ID-token signatures: every supported algorithm verifies with its key and
// only with it; anything else is refused.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "auth/jwk.h"
#include "auth/jwt.h"
#include "auth/test_keys.h"
#include "core/base64.h"

namespace blockyard::auth {
namespace {

using nlohmann::json;
using testing::TestKey;

const json kClaims = {{"sub", "alice"}, {"iss", "https://idp"}};

void expect_verifies(const TestKey& key, const std::string& alg) {
  std::string token = key.sign(alg, "k1", kClaims);
  auto keys = parse_jwks(json{{"keys", {key.jwk("k1")}}});
  ASSERT_EQ(keys.size(), 1u) << alg;
  Jws jws = parse_jws(token);
  EXPECT_TRUE(verify_signature(jws, keys[0])) << alg;
  EXPECT_NO_THROW(verify_with_keys(jws, keys)) << alg;
  EXPECT_EQ(jws.claims["sub"], "alice");
}

TEST(Jwt, EverySupportedAlgorithmVerifies) {
  TestKey rsa = TestKey::rsa();
  for (const char* alg : {"RS256", "RS384", "RS512", "PS256", "PS384", "PS512"}) {
    expect_verifies(rsa, alg);
  }
  expect_verifies(TestKey::ec("P-256"), "ES256");
  expect_verifies(TestKey::ec("P-384"), "ES384");
  expect_verifies(TestKey::ec("P-521"), "ES512");
  expect_verifies(TestKey::ed25519(), "EdDSA");
}

TEST(Jwt, TamperedTokensFail) {
  TestKey key = TestKey::rsa();
  auto keys = parse_jwks(json{{"keys", {key.jwk("k1")}}});
  std::string token = key.sign("RS256", "k1", kClaims);
  auto first = token.find('.');
  auto second = token.find('.', first + 1);
  std::string forged = token.substr(0, first + 1) +
                       base64url_encode(json{{"sub", "admin"}, {"iss", "https://idp"}}.dump()) +
                       token.substr(second);
  EXPECT_THROW(verify_with_keys(parse_jws(forged), keys), JwtError);
  std::string bad_sig = token;
  bad_sig[second + 5] = bad_sig[second + 5] == 'A' ? 'B' : 'A';
  EXPECT_THROW(verify_with_keys(parse_jws(bad_sig), keys), JwtError);
}

TEST(Jwt, AnotherKeyOrAMismatchedKeyTypeFails) {
  TestKey signer = TestKey::rsa();
  TestKey other = TestKey::rsa();
  std::string token = signer.sign("RS256", "k1", kClaims);
  auto other_keys = parse_jwks(json{{"keys", {other.jwk("k1")}}});
  EXPECT_THROW(verify_with_keys(parse_jws(token), other_keys), JwtError);

  TestKey ec256 = TestKey::ec("P-256");
  std::string es = ec256.sign("ES256", "k1", kClaims);
  Jws jws = parse_jws(es);
  // The header says ES384, the key is P-256: refused, not "close enough".
  jws.header["alg"] = "ES384";
  auto keys = parse_jwks(json{{"keys", {ec256.jwk("k1")}}});
  EXPECT_FALSE(verify_signature(jws, keys[0]));
  // A key that declares another algorithm is not used for this one.
  auto rs_only = parse_jwks(json{{"keys", {signer.jwk("k1", "RS512")}}});
  EXPECT_FALSE(verify_signature(parse_jws(token), rs_only[0]));
}

TEST(Jwt, NoneAndHmacAreRefused) {
  std::string header = base64url_encode(json{{"alg", "none"}}.dump());
  std::string payload = base64url_encode(kClaims.dump());
  TestKey key = TestKey::rsa();
  auto keys = parse_jwks(json{{"keys", {key.jwk("k1")}}});
  EXPECT_THROW(parse_jws(header + "." + payload + "."), JwtError) << "empty signature";
  std::string hs = base64url_encode(json{{"alg", "HS256"}}.dump()) + "." + payload + ".c2ln";
  EXPECT_THROW(verify_with_keys(parse_jws(hs), keys), JwtError);
  std::string none = header + "." + payload + ".c2ln";
  EXPECT_THROW(verify_with_keys(parse_jws(none), keys), JwtError);
}

TEST(Jwt, KidSelectsTheKeyAndAnUnknownKidFails) {
  TestKey a = TestKey::rsa();
  TestKey b = TestKey::rsa();
  auto keys = parse_jwks(json{{"keys", {a.jwk("a"), b.jwk("b")}}});
  EXPECT_NO_THROW(verify_with_keys(parse_jws(b.sign("RS256", "b", kClaims)), keys));
  EXPECT_NO_THROW(verify_with_keys(parse_jws(b.sign("RS256", "", kClaims)), keys))
      << "no kid: every fitting key is tried";
  try {
    verify_with_keys(parse_jws(b.sign("RS256", "c", kClaims)), keys);
    FAIL();
  } catch (const JwtError& e) {
    EXPECT_THAT(e.what(), ::testing::HasSubstr("no signing key with kid \"c\""));
  }
}

TEST(Jwt, MalformedTokensAndCriticalExtensionsAreRefused) {
  EXPECT_THROW(parse_jws("a.b"), JwtError);
  EXPECT_THROW(parse_jws("a.b.c.d"), JwtError);
  EXPECT_THROW(parse_jws("!!.e30.c2ln"), JwtError);
  EXPECT_THROW(parse_jws(base64url_encode("[1]") + ".e30.c2ln"), JwtError);
  TestKey key = TestKey::rsa();
  EXPECT_THROW(parse_jws(key.sign("RS256", "k", kClaims, json{{"crit", {"b64"}}})), JwtError);
}

TEST(Jwk, RejectsWeakOrInvalidKeysAndSkipsEncryptionKeys) {
  EXPECT_THROW(PublicKey::from_jwk(TestKey::rsa(1024).jwk("small")), std::invalid_argument);
  json off_curve = TestKey::ec("P-256").jwk("k");
  std::string y = *base64url_decode(off_curve["y"].get<std::string>());
  y.back() ^= 1;
  off_curve["y"] = base64url_encode(y);
  EXPECT_THROW(PublicKey::from_jwk(off_curve), std::invalid_argument);
  EXPECT_THROW(PublicKey::from_jwk(json{{"kty", "oct"}, {"k", "c2VjcmV0"}}), std::invalid_argument);

  json enc = TestKey::rsa().jwk("enc");
  enc["use"] = "enc";
  auto keys = parse_jwks(json{{"keys", {enc, TestKey::rsa().jwk("sig"), json{{"kty", "oct"}}}}});
  ASSERT_EQ(keys.size(), 1u);
  EXPECT_EQ(keys[0].kid(), "sig");
  EXPECT_THROW(parse_jwks(json{{"nokeys", 1}}), std::invalid_argument);
}

}  // namespace
}  // namespace blockyard::auth
