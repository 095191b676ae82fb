// CliLogin: how `by login` gets a token through the browser (the loopback
// flow of RFC 8252, as `gh auth login` and `gcloud auth login` do).
//
//   1. `by` listens on 127.0.0.1:<port>, makes a PKCE verifier, and opens
//      /login/cli?port=..&state=..&code_challenge=..&name=.. in the browser.
//   2. The signed-in user confirms on that page (a form POST carrying
//      form_token(), checked together with the request's origin).
//   3. The server issues a one-time code bound to the user and the
//      challenge, and redirects the browser to
//      http://127.0.0.1:<port>/callback?code=..&state=.. .
//   4. `by` POSTs the code and its verifier to /api/v1/cli-login/token and
//      receives a new personal access token.
//
// The token never appears in a URL or in the browser; a code is useless
// without the verifier that only `by` holds, lives 2 minutes, and works
// once (a wrong verifier burns it too).
//
// Thread safety: every method may be called from any thread.
#pragma once

#include <chrono>
#include <map>
#include <mutex>
#include <optional>
#include <string>

namespace blockyard::auth {

class CliLogin {
 public:
  using Clock = std::chrono::steady_clock;
  static constexpr std::chrono::seconds kCodeLifetime{120};

  struct Grant {
    std::string sub;
    std::string token_name;
  };

  explicit CliLogin(std::string key) : key_(std::move(key)) {}

  // Anti-forgery value for the confirmation form of browser session
  // `session_id` (an HMAC under the server's key).
  std::string form_token(const std::string& session_id) const;
  bool form_token_valid(const std::string& session_id, const std::string& token) const;

  // A one-time code for `sub`, redeemable with the verifier of
  // `code_challenge` (S256).
  std::string issue(const std::string& sub, const std::string& code_challenge,
                    const std::string& token_name, Clock::time_point now = Clock::now());
  // The grant, if `code` exists, has not expired and SHA-256(verifier)
  // matches its challenge. The code is gone afterwards either way.
  std::optional<Grant> redeem(const std::string& code, const std::string& code_verifier,
                              Clock::time_point now = Clock::now());

 private:
  struct Pending {
    Grant grant;
    std::string challenge;
    Clock::time_point expires;
  };
  std::string key_;
  std::mutex mu_;
  std::map<std::string, Pending> pending_;
};

// True for a PKCE S256 challenge's shape (43 base64url characters).
bool is_code_challenge(const std::string& text);

}  // namespace blockyard::auth
