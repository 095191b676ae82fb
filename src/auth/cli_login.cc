#include "auth/cli_login.h"

#include "auth/oidc_client.h"
#include "core/base64.h"
#include "core/crypto.h"

namespace blockyard::auth {

std::string CliLogin::form_token(const std::string& session_id) const {
  return base64url_encode(hmac_sha256(key_, "cli-login:" + session_id));
}

bool CliLogin::form_token_valid(const std::string& session_id, const std::string& token) const {
  return !session_id.empty() && constant_time_equal(token, form_token(session_id));
}

std::string CliLogin::issue(const std::string& sub, const std::string& code_challenge,
                            const std::string& token_name, Clock::time_point now) {
  std::string code = base64url_encode(random_bytes(32));
  std::lock_guard lock(mu_);
  for (auto it = pending_.begin(); it != pending_.end();) {
    it = it->second.expires <= now ? pending_.erase(it) : std::next(it);
  }
  pending_[code] = Pending{{sub, token_name}, code_challenge, now + kCodeLifetime};
  return code;
}

std::optional<CliLogin::Grant> CliLogin::redeem(const std::string& code,
                                                const std::string& code_verifier,
                                                Clock::time_point now) {
  Pending pending;
  {
    std::lock_guard lock(mu_);
    auto it = pending_.find(code);
    if (it == pending_.end()) return std::nullopt;
    pending = it->second;
    pending_.erase(it);
  }
  if (pending.expires <= now) return std::nullopt;
  if (!constant_time_equal(code_challenge_s256(code_verifier), pending.challenge)) {
    return std::nullopt;
  }
  return pending.grant;
}

bool is_code_challenge(const std::string& text) {
  if (text.size() != 43) return false;
  return base64url_decode(text).has_value();
}

}  // namespace blockyard::auth
