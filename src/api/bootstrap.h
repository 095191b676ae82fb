// Bootstrap: the one-time exchange of server.bootstrap_token for the
// initial admin's first personal access token (POST /api/v1/bootstrap,
// control-plane spec §1.10), for CI and scripted set-ups.
//
// The token is compared by SHA-256 in constant time. Redemption is claimed
// in memory first (compare-and-set), so of concurrent exchanges exactly one
// proceeds and the others leave nothing behind; the burn is then stored
// together with the new token in one transaction (a revoked row holding the
// bootstrap token's hash), so it survives restarts and a second server
// sharing the database.
//
// Thread safety: every method may be called from any thread.
#pragma once

#include <atomic>
#include <string>

namespace blockyard::api {

class Bootstrap {
 public:
  // `already_redeemed`: the store holds the burn row from an earlier run.
  Bootstrap(std::string token_hash, std::string initial_admin, bool already_redeemed)
      : token_hash_(std::move(token_hash)),
        initial_admin_(std::move(initial_admin)),
        redeemed_(already_redeemed) {}

  const std::string& token_hash() const { return token_hash_; }
  const std::string& initial_admin() const { return initial_admin_; }
  bool redeemed() const { return redeemed_.load(); }
  // True for exactly one caller until release().
  bool claim() {
    bool expected = false;
    return redeemed_.compare_exchange_strong(expected, true);
  }
  // Gives the claim back after a failure that stored nothing.
  void release() { redeemed_.store(false); }

 private:
  std::string token_hash_;
  std::string initial_admin_;
  std::atomic<bool> redeemed_;
};

// Id and name of the row that records the burn.
inline constexpr const char* kBootstrapBurnId = "bootstrap-redeemed";

}  // namespace blockyard::api
