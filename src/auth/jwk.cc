#include "auth/jwk.h"

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/param_build.h>

#include <spdlog/spdlog.h>

#include <stdexcept>

#include "core/base64.h"

namespace blockyard::auth {
namespace {

constexpr int kMinRsaBits = 2048;

struct ParamBuildDeleter {
  void operator()(OSSL_PARAM_BLD* b) const { OSSL_PARAM_BLD_free(b); }
};
struct ParamDeleter {
  void operator()(OSSL_PARAM* p) const { OSSL_PARAM_free(p); }
};
struct BnDeleter {
  void operator()(BIGNUM* b) const { BN_free(b); }
};
struct CtxDeleter {
  void operator()(EVP_PKEY_CTX* c) const { EVP_PKEY_CTX_free(c); }
};

std::string member(const nlohmann::json& jwk, const char* name, bool required = true) {
  auto it = jwk.find(name);
  if (it == jwk.end() || it->is_null()) {
    if (required) throw std::invalid_argument(std::string("JWK has no \"") + name + "\"");
    return {};
  }
  if (!it->is_string())
    throw std::invalid_argument(std::string("JWK \"") + name + "\" is not a string");
  return it->get<std::string>();
}

std::string decoded(const nlohmann::json& jwk, const char* name) {
  auto bytes = base64url_decode(member(jwk, name));
  if (!bytes || bytes->empty()) {
    throw std::invalid_argument(std::string("JWK \"") + name + "\" is not base64url");
  }
  return *bytes;
}

std::unique_ptr<BIGNUM, BnDeleter> to_bn(const std::string& bytes) {
  std::unique_ptr<BIGNUM, BnDeleter> bn(
      BN_bin2bn(reinterpret_cast<const unsigned char*>(bytes.data()),
                static_cast<int>(bytes.size()), nullptr));
  if (!bn) throw std::runtime_error("BN_bin2bn failed");
  return bn;
}

EVP_PKEY* from_params(const char* type, OSSL_PARAM_BLD* builder) {
  std::unique_ptr<OSSL_PARAM, ParamDeleter> params(OSSL_PARAM_BLD_to_param(builder));
  std::unique_ptr<EVP_PKEY_CTX, CtxDeleter> ctx(EVP_PKEY_CTX_new_from_name(nullptr, type, nullptr));
  EVP_PKEY* key = nullptr;
  if (!params || !ctx || EVP_PKEY_fromdata_init(ctx.get()) <= 0 ||
      EVP_PKEY_fromdata(ctx.get(), &key, EVP_PKEY_PUBLIC_KEY, params.get()) <= 0) {
    throw std::invalid_argument(std::string("JWK is not a valid ") + type + " public key");
  }
  return key;
}

EVP_PKEY* rsa_key(const nlohmann::json& jwk) {
  auto n = to_bn(decoded(jwk, "n"));
  auto e = to_bn(decoded(jwk, "e"));
  if (BN_num_bits(n.get()) < kMinRsaBits) {
    throw std::invalid_argument("RSA key shorter than " + std::to_string(kMinRsaBits) + " bits");
  }
  std::unique_ptr<OSSL_PARAM_BLD, ParamBuildDeleter> b(OSSL_PARAM_BLD_new());
  if (!b || !OSSL_PARAM_BLD_push_BN(b.get(), OSSL_PKEY_PARAM_RSA_N, n.get()) ||
      !OSSL_PARAM_BLD_push_BN(b.get(), OSSL_PKEY_PARAM_RSA_E, e.get())) {
    throw std::runtime_error("OSSL_PARAM_BLD failed");
  }
  return from_params("RSA", b.get());
}

EVP_PKEY* ec_key(const nlohmann::json& jwk, const std::string& crv) {
  const char* group = nullptr;
  std::size_t size = 0;
  if (crv == "P-256") {
    group = "prime256v1";
    size = 32;
  } else if (crv == "P-384") {
    group = "secp384r1";
    size = 48;
  } else if (crv == "P-521") {
    group = "secp521r1";
    size = 66;
  } else {
    throw std::invalid_argument("unsupported EC curve \"" + crv + "\"");
  }
  std::string x = decoded(jwk, "x");
  std::string y = decoded(jwk, "y");
  if (x.size() != size || y.size() != size) {
    throw std::invalid_argument("EC key coordinates have the wrong length for " + crv);
  }
  std::string point = "\x04" + x + y;  // uncompressed SEC1 point
  std::unique_ptr<OSSL_PARAM_BLD, ParamBuildDeleter> b(OSSL_PARAM_BLD_new());
  if (!b || !OSSL_PARAM_BLD_push_utf8_string(b.get(), OSSL_PKEY_PARAM_GROUP_NAME, group, 0) ||
      !OSSL_PARAM_BLD_push_octet_string(b.get(), OSSL_PKEY_PARAM_PUB_KEY, point.data(),
                                        point.size())) {
    throw std::runtime_error("OSSL_PARAM_BLD failed");
  }
  EVP_PKEY* key = from_params("EC", b.get());
  // A point off the curve would make signature checks meaningless.
  std::unique_ptr<EVP_PKEY_CTX, CtxDeleter> check(EVP_PKEY_CTX_new(key, nullptr));
  if (!check || EVP_PKEY_public_check(check.get()) != 1) {
    EVP_PKEY_free(key);
    throw std::invalid_argument("EC key is not a point on " + crv);
  }
  return key;
}

EVP_PKEY* okp_key(const nlohmann::json& jwk, const std::string& crv) {
  if (crv != "Ed25519") throw std::invalid_argument("unsupported OKP curve \"" + crv + "\"");
  std::string x = decoded(jwk, "x");
  EVP_PKEY* key = EVP_PKEY_new_raw_public_key(
      EVP_PKEY_ED25519, nullptr, reinterpret_cast<const unsigned char*>(x.data()), x.size());
  if (!key) throw std::invalid_argument("JWK is not a valid Ed25519 public key");
  return key;
}

}  // namespace

PublicKey PublicKey::from_jwk(const nlohmann::json& jwk) {
  if (!jwk.is_object()) throw std::invalid_argument("JWK is not an object");
  PublicKey out;
  out.kty_ = member(jwk, "kty");
  out.kid_ = member(jwk, "kid", false);
  out.alg_ = member(jwk, "alg", false);
  out.crv_ = member(jwk, "crv", false);
  EVP_PKEY* key = nullptr;
  if (out.kty_ == "RSA") {
    key = rsa_key(jwk);
  } else if (out.kty_ == "EC") {
    key = ec_key(jwk, out.crv_);
  } else if (out.kty_ == "OKP") {
    key = okp_key(jwk, out.crv_);
  } else {
    throw std::invalid_argument("unsupported key type \"" + out.kty_ + "\"");
  }
  out.key_.reset(key, EVP_PKEY_free);
  return out;
}

std::vector<PublicKey> parse_jwks(const nlohmann::json& jwks) {
  if (!jwks.is_object() || !jwks.contains("keys") || !jwks["keys"].is_array()) {
    throw std::invalid_argument("not a JWK Set (no \"keys\" array)");
  }
  std::vector<PublicKey> keys;
  for (const auto& jwk : jwks["keys"]) {
    auto use = jwk.is_object() ? jwk.find("use") : jwk.end();
    if (use != jwk.end() && !(use->is_string() && use->get<std::string>() == "sig")) continue;
    try {
      keys.push_back(PublicKey::from_jwk(jwk));
    } catch (const std::invalid_argument& e) {
      spdlog::warn("oidc: skipping a JWK: {}", e.what());
    }
  }
  return keys;
}

}  // namespace blockyard::auth
