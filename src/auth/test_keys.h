// Test-only: signing keys made with OpenSSL, their public JWKs, and compact
// JWS tokens signed with them, for the ID-token tests. (The real provider,
// npm oidc-provider, is exercised by the integration suites.)
#pragma once

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/ecdsa.h>
#include <openssl/evp.h>
#include <openssl/rsa.h>

#include <memory>
#include <stdexcept>
#include <string>

#include <nlohmann/json.hpp>

#include "core/base64.h"

namespace blockyard::auth::testing {

class TestKey {
 public:
  static TestKey rsa(int bits = 2048) {
    return TestKey(EVP_RSA_gen(static_cast<unsigned>(bits)), "RSA");
  }
  static TestKey ec(const char* group = "P-256") { return TestKey(EVP_EC_gen(group), "EC"); }
  static TestKey ed25519() {
    EVP_PKEY* key = nullptr;
    EVP_PKEY_CTX* ctx = EVP_PKEY_CTX_new_id(EVP_PKEY_ED25519, nullptr);
    EVP_PKEY_keygen_init(ctx);
    EVP_PKEY_keygen(ctx, &key);
    EVP_PKEY_CTX_free(ctx);
    return TestKey(key, "OKP");
  }

  // Public JWK with `kid` (and `alg` when given).
  nlohmann::json jwk(const std::string& kid, const std::string& alg = "") const {
    nlohmann::json j = {{"kty", kty_}, {"kid", kid}, {"use", "sig"}};
    if (!alg.empty()) j["alg"] = alg;
    if (kty_ == "RSA") {
      j["n"] = base64url_encode(bn_param(OSSL_PKEY_PARAM_RSA_N));
      j["e"] = base64url_encode(bn_param(OSSL_PKEY_PARAM_RSA_E));
    } else if (kty_ == "EC") {
      int bits = EVP_PKEY_get_bits(key_.get());
      std::size_t size = static_cast<std::size_t>((bits + 7) / 8);
      j["crv"] = bits == 256 ? "P-256" : bits == 384 ? "P-384" : "P-521";
      j["x"] = base64url_encode(padded(bn_param(OSSL_PKEY_PARAM_EC_PUB_X), size));
      j["y"] = base64url_encode(padded(bn_param(OSSL_PKEY_PARAM_EC_PUB_Y), size));
    } else {
      unsigned char raw[32];
      std::size_t len = sizeof raw;
      EVP_PKEY_get_raw_public_key(key_.get(), raw, &len);
      j["crv"] = "Ed25519";
      j["x"] = base64url_encode(std::string(reinterpret_cast<char*>(raw), len));
    }
    return j;
  }

  // A compact JWS of `claims` with header {"alg", "kid"} (+ `extra_header`).
  std::string sign(const std::string& alg, const std::string& kid, const nlohmann::json& claims,
                   nlohmann::json extra_header = nlohmann::json::object()) const {
    nlohmann::json header = {{"alg", alg}, {"typ", "JWT"}};
    if (!kid.empty()) header["kid"] = kid;
    for (auto& [k, v] : extra_header.items()) header[k] = v;
    std::string input = base64url_encode(header.dump()) + "." + base64url_encode(claims.dump());
    return input + "." + base64url_encode(raw_signature(alg, input));
  }

 private:
  TestKey(EVP_PKEY* key, std::string kty) : key_(key, EVP_PKEY_free), kty_(std::move(kty)) {
    if (!key) throw std::runtime_error("key generation failed");
  }

  std::string bn_param(const char* name) const {
    BIGNUM* bn = nullptr;
    EVP_PKEY_get_bn_param(key_.get(), name, &bn);
    std::string out(static_cast<std::size_t>(BN_num_bytes(bn)), '\0');
    BN_bn2bin(bn, reinterpret_cast<unsigned char*>(out.data()));
    BN_free(bn);
    return out;
  }

  static std::string padded(std::string bytes, std::size_t size) {
    return std::string(size - bytes.size(), '\0') + bytes;
  }

  std::string raw_signature(const std::string& alg, const std::string& input) const {
    const EVP_MD* md = nullptr;
    if (alg.ends_with("256")) md = EVP_sha256();
    if (alg.ends_with("384")) md = EVP_sha384();
    if (alg.ends_with("512")) md = EVP_sha512();
    if (alg == "EdDSA") md = nullptr;
    EVP_MD_CTX* ctx = EVP_MD_CTX_new();
    EVP_PKEY_CTX* pctx = nullptr;
    EVP_DigestSignInit(ctx, &pctx, md, nullptr, key_.get());
    if (alg.starts_with("PS")) {
      EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PSS_PADDING);
      EVP_PKEY_CTX_set_rsa_pss_saltlen(pctx, RSA_PSS_SALTLEN_DIGEST);
    }
    std::size_t len = 0;
    EVP_DigestSign(ctx, nullptr, &len, reinterpret_cast<const unsigned char*>(input.data()),
                   input.size());
    std::string sig(len, '\0');
    EVP_DigestSign(ctx, reinterpret_cast<unsigned char*>(sig.data()), &len,
                   reinterpret_cast<const unsigned char*>(input.data()), input.size());
    sig.resize(len);
    EVP_MD_CTX_free(ctx);
    if (kty_ != "EC") return sig;
    // DER ECDSA-Sig-Value -> JOSE r || s.
    const unsigned char* p = reinterpret_cast<const unsigned char*>(sig.data());
    ECDSA_SIG* ecdsa = d2i_ECDSA_SIG(nullptr, &p, static_cast<long>(sig.size()));
    const BIGNUM* r = nullptr;
    const BIGNUM* s = nullptr;
    ECDSA_SIG_get0(ecdsa, &r, &s);
    std::size_t size = static_cast<std::size_t>((EVP_PKEY_get_bits(key_.get()) + 7) / 8);
    std::string out(2 * size, '\0');
    BN_bn2binpad(r, reinterpret_cast<unsigned char*>(out.data()), static_cast<int>(size));
    BN_bn2binpad(s, reinterpret_cast<unsigned char*>(out.data()) + size, static_cast<int>(size));
    ECDSA_SIG_free(ecdsa);
    return out;
  }

  std::shared_ptr<EVP_PKEY> key_;
  std::string kty_;
};

}  // namespace blockyard::auth::testing
