#include "auth/jwt.h"

#include <openssl/bn.h>
#include <openssl/ecdsa.h>
#include <openssl/evp.h>
#include <openssl/rsa.h>

#include <memory>

#include "core/base64.h"

namespace blockyard::auth {
namespace {

struct MdCtxDeleter {
  void operator()(EVP_MD_CTX* c) const { EVP_MD_CTX_free(c); }
};

struct AlgSpec {
  std::string_view name;
  const char* kty;
  const EVP_MD* (*md)();  // null for EdDSA
  const char* curve;      // EC/OKP: required curve
  bool pss = false;
  std::size_t ec_part = 0;  // bytes of r and of s in a JOSE ECDSA signature
};

const AlgSpec* find_alg(std::string_view alg) {
  static const AlgSpec kAlgs[] = {
      {"RS256", "RSA", EVP_sha256, nullptr},
      {"RS384", "RSA", EVP_sha384, nullptr},
      {"RS512", "RSA", EVP_sha512, nullptr},
      {"PS256", "RSA", EVP_sha256, nullptr, true},
      {"PS384", "RSA", EVP_sha384, nullptr, true},
      {"PS512", "RSA", EVP_sha512, nullptr, true},
      {"ES256", "EC", EVP_sha256, "P-256", false, 32},
      {"ES384", "EC", EVP_sha384, "P-384", false, 48},
      {"ES512", "EC", EVP_sha512, "P-521", false, 66},
      {"EdDSA", "OKP", nullptr, "Ed25519"},
  };
  for (const auto& spec : kAlgs) {
    if (spec.name == alg) return &spec;
  }
  return nullptr;
}

nlohmann::json decode_part(std::string_view part, const char* what) {
  auto bytes = base64url_decode(part);
  if (!bytes) throw JwtError(std::string("token ") + what + " is not base64url");
  auto j = nlohmann::json::parse(*bytes, nullptr, false);
  if (j.is_discarded() || !j.is_object()) {
    throw JwtError(std::string("token ") + what + " is not a JSON object");
  }
  return j;
}

// JOSE carries ECDSA signatures as r || s; OpenSSL wants DER.
std::string ecdsa_to_der(const std::string& raw, std::size_t part) {
  if (raw.size() != 2 * part) return {};
  const auto* bytes = reinterpret_cast<const unsigned char*>(raw.data());
  BIGNUM* r = BN_bin2bn(bytes, static_cast<int>(part), nullptr);
  BIGNUM* s = BN_bin2bn(bytes + part, static_cast<int>(part), nullptr);
  ECDSA_SIG* sig = ECDSA_SIG_new();
  if (!r || !s || !sig || ECDSA_SIG_set0(sig, r, s) != 1) {
    BN_free(r);
    BN_free(s);
    ECDSA_SIG_free(sig);
    return {};
  }
  unsigned char* der = nullptr;
  int len = i2d_ECDSA_SIG(sig, &der);
  ECDSA_SIG_free(sig);
  if (len <= 0) return {};
  std::string out(reinterpret_cast<char*>(der), static_cast<std::size_t>(len));
  OPENSSL_free(der);
  return out;
}

}  // namespace

Jws parse_jws(std::string_view token) {
  auto first = token.find('.');
  auto second = first == std::string_view::npos ? first : token.find('.', first + 1);
  if (second == std::string_view::npos || token.find('.', second + 1) != std::string_view::npos) {
    throw JwtError("token is not a compact JWS (three dot-separated parts)");
  }
  Jws jws;
  jws.header = decode_part(token.substr(0, first), "header");
  jws.claims = decode_part(token.substr(first + 1, second - first - 1), "payload");
  auto signature = base64url_decode(token.substr(second + 1));
  if (!signature || signature->empty()) throw JwtError("token signature is missing or malformed");
  jws.signature = std::move(*signature);
  jws.signing_input = std::string(token.substr(0, second));
  auto alg = jws.header.find("alg");
  if (alg == jws.header.end() || !alg->is_string()) throw JwtError("token header has no alg");
  // We understand no extensions, so a token that requires one is refused.
  if (jws.header.contains("crit")) throw JwtError("token names critical header extensions");
  return jws;
}

bool is_supported_alg(std::string_view alg) {
  return find_alg(alg) != nullptr;
}

bool verify_signature(const Jws& jws, const PublicKey& key) {
  const std::string alg = jws.header["alg"].get<std::string>();
  const AlgSpec* spec = find_alg(alg);
  if (!spec || key.kty() != spec->kty) return false;
  if (spec->curve && key.curve() != spec->curve) return false;
  if (!key.alg().empty() && key.alg() != alg) return false;

  std::string signature = jws.signature;
  if (spec->ec_part) {
    signature = ecdsa_to_der(signature, spec->ec_part);
    if (signature.empty()) return false;
  }
  std::unique_ptr<EVP_MD_CTX, MdCtxDeleter> ctx(EVP_MD_CTX_new());
  EVP_PKEY_CTX* pctx = nullptr;
  if (!ctx || EVP_DigestVerifyInit(ctx.get(), &pctx, spec->md ? spec->md() : nullptr, nullptr,
                                   key.get()) != 1) {
    return false;
  }
  if (spec->pss && (EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PSS_PADDING) != 1 ||
                    EVP_PKEY_CTX_set_rsa_pss_saltlen(pctx, RSA_PSS_SALTLEN_DIGEST) != 1)) {
    return false;
  }
  return EVP_DigestVerify(ctx.get(), reinterpret_cast<const unsigned char*>(signature.data()),
                          signature.size(),
                          reinterpret_cast<const unsigned char*>(jws.signing_input.data()),
                          jws.signing_input.size()) == 1;
}

void verify_with_keys(const Jws& jws, const std::vector<PublicKey>& keys) {
  const std::string alg = jws.header["alg"].get<std::string>();
  if (!is_supported_alg(alg)) throw JwtError("unsupported token algorithm \"" + alg + "\"");
  std::string kid;
  if (auto it = jws.header.find("kid"); it != jws.header.end() && it->is_string()) {
    kid = it->get<std::string>();
  }
  bool candidate = false;
  for (const auto& key : keys) {
    if (!kid.empty() && key.kid() != kid) continue;
    candidate = true;
    if (verify_signature(jws, key)) return;
  }
  if (!candidate) throw JwtError("no signing key with kid \"" + kid + "\"");
  throw JwtError("bad token signature");
}

}  // namespace blockyard::auth
