// Public keys from JSON Web Keys (RFC 7517/7518/8037), as an OpenID
// provider publishes them at its jwks_uri: RSA (n, e; at least 2048 bits),
// EC P-256/P-384/P-521 (x, y; the point must be on the curve) and OKP
// Ed25519 (x). Private parts, if present, are ignored.
//
// Thread safety: a PublicKey is immutable and may be shared across threads.
// Failure: from_jwk throws std::invalid_argument saying what is wrong.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

struct evp_pkey_st;

namespace blockyard::auth {

class PublicKey {
 public:
  static PublicKey from_jwk(const nlohmann::json& jwk);

  evp_pkey_st* get() const { return key_.get(); }
  const std::string& kid() const { return kid_; }
  const std::string& kty() const { return kty_; }    // RSA | EC | OKP
  const std::string& alg() const { return alg_; }    // as published; may be empty
  const std::string& curve() const { return crv_; }  // EC/OKP only

 private:
  std::shared_ptr<evp_pkey_st> key_;
  std::string kid_, kty_, alg_, crv_;
};

// The signing keys of a JWK Set ({"keys": [...]}). Keys marked for
// encryption (use = "enc") and keys of unsupported types are skipped.
// Throws std::invalid_argument when the document is not a JWK Set.
std::vector<PublicKey> parse_jwks(const nlohmann::json& jwks);

}  // namespace blockyard::auth
