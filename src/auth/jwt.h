// Signed JSON Web Tokens (JWS compact serialization, RFC 7515) as ID tokens
// use them, and signature checks with OpenSSL: RS256/384/512,
// PS256/384/512, ES256/384/512 and EdDSA (Ed25519). "none" and the HMAC
// algorithms are refused: an ID token must be signed by the provider's
// published key, not by a secret the client holds too.
//
// Pure functions; thread safe. parse_jws throws JwtError.
#pragma once

#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "auth/jwk.h"

namespace blockyard::auth {

class JwtError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

struct Jws {
  nlohmann::json header;      // object with a string "alg"
  nlohmann::json claims;      // object
  std::string signing_input;  // "<header b64>.<payload b64>"
  std::string signature;      // raw bytes
};

// Splits and decodes; throws JwtError when the token is not three base64url
// parts with JSON objects, has no "alg", or names critical extensions.
Jws parse_jws(std::string_view token);

// True if the algorithm is one this module verifies.
bool is_supported_alg(std::string_view alg);

// True when `key` is usable for the token's "alg" (type, curve and any "alg"
// the key declares all agree) and the signature verifies with it.
bool verify_signature(const Jws& jws, const PublicKey& key);

// Verifies against the keys of a JWK Set: the key with the token's "kid",
// or, when the token names none, every key that fits the algorithm. Throws
// JwtError saying why it failed ("unsupported alg", "no key with kid ...",
// "bad signature").
void verify_with_keys(const Jws& jws, const std::vector<PublicKey>& keys);

}  // namespace blockyard::auth
