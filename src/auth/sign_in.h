// SignIn: the browser sign-in endpoints' logic (control-plane spec §1.5,
// §1.6, §1.13), free of HTTP plumbing: api/signin_routes.cc turns each
// result into a response.
//
//   begin()   GET /login: a state cookie (state, nonce, PKCE verifier and
//             the sanitised return_url) and the provider's authorization URL.
//   finish()  GET /callback: checks the state, exchanges the code (with the
//             PKCE verifier), verifies the ID token and its nonce, reads the
//             profile (ID token, then userinfo), records the user (role on
//             first sign-in: admin for oidc.initial_admin, else
//             oidc.default_role), refuses deactivated users, and starts a
//             browser session.
//   sign_out()  GET|POST /logout: ends this browser's session, then sends
//             the browser to the provider's end-session endpoint (with
//             id_token_hint and post_logout_redirect_uri) when it has one.
//
// Every completed or refused sign-in and every sign-out is audited.
//
// Thread safety: all methods may run concurrently.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "auth/browser_sessions.h"
#include "auth/oidc_client.h"
#include "store/store.h"
#include "telemetry/audit_log.h"

namespace blockyard::auth {

struct SignInOptions {
  std::string cookie_key;
  bool secure_cookies = false;
  std::string default_role = "viewer";
  std::string initial_admin;
  std::string groups_claim;  // "" = groups are not read
  std::string external_url;  // for the post-logout landing page
};

// What a sign-in endpoint answers: a redirect (status 302/303 with
// `location`) or a page saying what went wrong (`message`).
struct SignInAnswer {
  int status = 302;
  std::string location;
  std::string message;
  std::vector<std::string> set_cookies;
};

struct CallbackParams {
  std::string state;
  std::string code;
  std::string error;              // the provider's ?error=
  std::string error_description;  // and ?error_description=
};

class SignIn {
 public:
  SignIn(SignInOptions options, OidcClient& oidc, BrowserSessions& sessions, store::Store& store,
         telemetry::AuditLog& audit);

  SignInAnswer begin(std::string_view return_url);
  SignInAnswer finish(const CallbackParams& params, const std::optional<std::string>& state_cookie,
                      const std::string& source_ip);
  SignInAnswer sign_out(const std::optional<std::string>& session_cookie,
                        const std::string& source_ip);

  // Where the provider sends the browser after signing out.
  std::string signed_out_url() const;

 private:
  SignInAnswer refuse(int status, std::string message, const std::string& actor,
                      const std::string& reason, const std::string& source_ip);
  std::vector<std::string> groups_from(const nlohmann::json& claims) const;

  SignInOptions options_;
  OidcClient& oidc_;
  BrowserSessions& sessions_;
  store::Store& store_;
  telemetry::AuditLog& audit_;
};

}  // namespace blockyard::auth
