#include "auth/sign_in.h"

#include <spdlog/spdlog.h>

#include "auth/cookies.h"
#include "auth/return_url.h"
#include "core/crypto.h"
#include "store/timestamp.h"

namespace blockyard::auth {

using nlohmann::json;

namespace {

std::string random_hex(std::size_t bytes) {
  std::string raw = random_bytes(bytes);
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string out;
  for (unsigned char c : raw) {
    out += kDigits[c >> 4];
    out += kDigits[c & 15];
  }
  return out;
}

std::string string_claim(const json& claims, const char* name) {
  auto it = claims.find(name);
  return it != claims.end() && it->is_string() ? it->get<std::string>() : std::string();
}

}  // namespace

SignIn::SignIn(SignInOptions options, OidcClient& oidc, BrowserSessions& sessions,
               store::Store& store, telemetry::AuditLog& audit)
    : options_(std::move(options)),
      oidc_(oidc),
      sessions_(sessions),
      store_(store),
      audit_(audit) {}

std::string SignIn::signed_out_url() const {
  std::string base = options_.external_url;
  while (!base.empty() && base.back() == '/') base.pop_back();
  return base + "/signed-out";
}

SignInAnswer SignIn::begin(std::string_view return_url) {
  StateCookie state;
  state.csrf_token = random_hex(16);
  state.nonce = random_hex(16);
  state.return_url = sanitize_return_url(return_url);
  state.code_verifier = make_code_verifier();
  SignInAnswer answer;
  answer.location = oidc_.authorization_url(state.csrf_token, state.nonce,
                                            code_challenge_s256(state.code_verifier));
  answer.set_cookies.push_back(set_cookie_header(kStateCookie,
                                                 encode_state_cookie(options_.cookie_key, state),
                                                 kStateCookieMaxAge, options_.secure_cookies));
  return answer;
}

SignInAnswer SignIn::refuse(int status, std::string message, const std::string& actor,
                            const std::string& reason, const std::string& source_ip) {
  audit_.emit({"user.login", actor, actor, json{{"reason", reason}}, source_ip,
               status == 403 ? "denied" : "failure"});
  SignInAnswer answer;
  answer.status = status;
  answer.message = std::move(message);
  answer.set_cookies.push_back(clear_cookie_header(kStateCookie, options_.secure_cookies));
  return answer;
}

std::vector<std::string> SignIn::groups_from(const json& claims) const {
  std::vector<std::string> groups;
  if (options_.groups_claim.empty()) return groups;
  auto it = claims.find(options_.groups_claim);
  if (it == claims.end()) return groups;
  if (it->is_string()) {
    groups.push_back(it->get<std::string>());
  } else if (it->is_array()) {
    for (const auto& g : *it) {
      if (g.is_string() && !g.get<std::string>().empty()) groups.push_back(g.get<std::string>());
    }
  }
  return groups;
}

SignInAnswer SignIn::finish(const CallbackParams& params,
                            const std::optional<std::string>& state_cookie,
                            const std::string& source_ip) {
  // Requests without a valid state are not sign-in attempts of ours (a
  // stale tab, a forged link): answered, not audited.
  std::optional<StateCookie> state;
  if (state_cookie) state = decode_state_cookie(options_.cookie_key, *state_cookie);
  SignInAnswer bad_state;
  bad_state.status = 400;
  bad_state.message = "This sign-in link is invalid or has expired. Please sign in again.";
  bad_state.set_cookies.push_back(clear_cookie_header(kStateCookie, options_.secure_cookies));
  if (!state) return bad_state;
  if (!constant_time_equal(params.state, state->csrf_token)) return bad_state;

  if (!params.error.empty()) {
    std::string text = params.error;
    if (!params.error_description.empty()) text += ": " + params.error_description;
    int status = params.error == "access_denied" ? 403 : 502;
    return refuse(status, "The identity provider did not sign you in (" + text + ").", "",
                  "provider answered " + params.error, source_ip);
  }

  TokenSet tokens;
  json claims;
  try {
    tokens = oidc_.exchange_code(params.code, state->code_verifier);
    claims = oidc_.verify_id_token(tokens.id_token, std::nullopt);
  } catch (const OidcError& e) {
    spdlog::warn("oidc: sign-in failed: {}", e.what());
    return refuse(502,
                  "Sign-in failed: blockyard could not complete it with the identity provider. "
                  "Please try again; if it keeps failing, tell your administrator.",
                  "", e.what(), source_ip);
  }
  const std::string sub = string_claim(claims, "sub");
  if (string_claim(claims, "nonce") != state->nonce) {
    return refuse(400,
                  "Sign-in failed: the identity provider's answer does not match this "
                  "sign-in. Please sign in again.",
                  sub, "nonce mismatch", source_ip);
  }

  // The profile: ID token claims, completed by userinfo (many providers put
  // name, email and groups only there for the code flow).
  json profile = claims;
  try {
    json info = oidc_.userinfo(tokens.access_token);
    if (!info.empty()) {
      if (string_claim(info, "sub") == sub) {
        for (auto& [key, value] : info.items()) profile[key] = value;
      } else {
        spdlog::warn("oidc: userinfo answered for another subject; using the ID token only");
      }
    }
  } catch (const OidcError& e) {
    spdlog::warn("oidc: userinfo failed, using the ID token's claims only: {}", e.what());
  }
  std::string name = string_claim(profile, "name");
  if (name.empty()) name = string_claim(profile, "preferred_username");
  const std::string email = string_claim(profile, "email");
  const std::string role = !options_.initial_admin.empty() && sub == options_.initial_admin
                               ? "admin"
                               : options_.default_role;
  const std::string now = store::now_rfc3339();
  store::User user = store_.record_login(sub, email, name, role, now);
  if (!user.active) {
    return refuse(403, "Your account has been deactivated. Ask an administrator to reactivate it.",
                  sub, "account deactivated", source_ip);
  }

  std::vector<std::string> groups = groups_from(profile);
  SignInAnswer answer;
  answer.location = sanitize_return_url(state->return_url);
  answer.set_cookies.push_back(sessions_.start(sub, groups, tokens));
  answer.set_cookies.push_back(clear_cookie_header(kStateCookie, options_.secure_cookies));
  json detail = {{"name", user.name}, {"role", user.role}};
  if (!groups.empty()) detail["groups"] = groups;
  audit_.emit({"user.login", sub, sub, detail, source_ip, "success"});
  spdlog::info("sign-in: {} ({})", sub, user.role);
  return answer;
}

SignInAnswer SignIn::sign_out(const std::optional<std::string>& session_cookie,
                              const std::string& source_ip) {
  std::optional<BrowserSessions::Ended> ended;
  if (session_cookie) ended = sessions_.end(*session_cookie);
  SignInAnswer answer;
  answer.set_cookies.push_back(sessions_.clear_cookie_header());
  answer.location = "/signed-out";
  if (ended) {
    audit_.emit({"user.logout", ended->sub, ended->sub, json::object(), source_ip, "success"});
    if (auto idp = oidc_.end_session_url(ended->id_token, signed_out_url())) {
      answer.location = *idp;
    }
  }
  return answer;
}

}  // namespace blockyard::auth
