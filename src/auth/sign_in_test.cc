// Browser sign-in (control-plane spec §8.1): the sign-in endpoints' logic,
// browser sessions and refresh, against a simulated provider and a real
// SQLite store.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <fstream>

#include "auth/browser_sessions.h"
#include "auth/cli_login.h"
#include "auth/cookies.h"
#include "auth/sign_in.h"
#include "auth/signed_token.h"
#include "auth/test_provider.h"
#include "core/crypto.h"
#include "store/test_temp_dir.h"
#include "store/timestamp.h"

namespace blockyard::auth {
namespace {

using nlohmann::json;
using testing::FakeProvider;
using ::testing::HasSubstr;
using ::testing::StartsWith;

class RecordingListener : public AccessListener {
 public:
  void session_ended(const std::string& id) override { ended.push_back(id); }
  void user_signed_out(const std::string& sub) override { users.push_back(sub); }
  std::vector<std::string> ended, users;
};

// The value of cookie `name` among Set-Cookie headers.
std::optional<std::string> set_cookie_value(const std::vector<std::string>& headers,
                                            const std::string& name) {
  for (const auto& h : headers) {
    if (h.starts_with(name + "=")) return h.substr(name.size() + 1, h.find(';') - name.size() - 1);
  }
  return std::nullopt;
}

std::string query_value(const std::string& url, const std::string& name) {
  auto pos = url.find("&" + name + "=");
  if (pos == std::string::npos) pos = url.find("?" + name + "=");
  if (pos == std::string::npos) return {};
  pos += name.size() + 2;
  return url.substr(pos, url.find('&', pos) - pos);
}

class SignInTest : public ::testing::Test {
 protected:
  SignInTest() {
    store_ = store::open_sqlite_store(dir_.path() / "by.db");
    OidcSettings s;
    s.issuer_url = idp_->issuer_;
    s.client_id = idp_->client_id;
    s.client_secret = idp_->client_secret;
    s.redirect_uri = "https://by.example.com/callback";
    oidc_ = std::make_unique<OidcClient>(s, idp_);
    oidc_->discover();
    audit_ = std::make_unique<telemetry::AuditLog>(dir_.path() / "audit.jsonl");
    make(Options{});
  }

  struct Options {
    std::string default_role = "viewer";
    std::string initial_admin;
    std::string groups_claim;
    std::chrono::seconds max_age{3600};
  };

  void make(const Options& o) {
    BrowserSessionOptions so;
    so.cookie_key = key_;
    so.max_age = o.max_age;
    so.secure_cookies = true;
    sessions_ = std::make_unique<BrowserSessions>(
        so, *store_, oidc_.get(),
        [this](std::function<void()> job) { background_.push_back(std::move(job)); });
    sessions_->set_listener(&listener_);
    SignInOptions io;
    io.cookie_key = key_;
    io.secure_cookies = true;
    io.default_role = o.default_role;
    io.initial_admin = o.initial_admin;
    io.groups_claim = o.groups_claim;
    io.external_url = "https://by.example.com";
    sign_in_ = std::make_unique<SignIn>(io, *oidc_, *sessions_, *store_, *audit_);
  }

  // A complete sign-in; returns the answer to the callback.
  SignInAnswer sign_in(const std::string& return_url = "/app/sales/") {
    SignInAnswer start = sign_in_->begin(return_url);
    auto state_cookie = set_cookie_value(start.set_cookies, "blockyard_oidc_state");
    idp_->nonce = query_value(start.location, "nonce");
    return sign_in_->finish({query_value(start.location, "state"), "code-1", "", ""}, state_cookie,
                            "198.51.100.4");
  }

  std::string session_cookie(const SignInAnswer& answer) {
    auto v = set_cookie_value(answer.set_cookies, "blockyard_session");
    EXPECT_TRUE(v);
    return v.value_or("");
  }

  std::vector<json> audit_lines() {
    std::ifstream in(dir_.path() / "audit.jsonl");
    std::vector<json> lines;
    for (std::string line; std::getline(in, line);) lines.push_back(json::parse(line));
    return lines;
  }

  void run_background() {
    auto jobs = std::move(background_);
    background_.clear();
    for (auto& job : jobs) job();
  }

  blockyard::testing::TempDir dir_;
  std::unique_ptr<store::Store> store_;
  std::shared_ptr<FakeProvider> idp_ = std::make_shared<FakeProvider>();
  std::unique_ptr<OidcClient> oidc_;
  std::unique_ptr<telemetry::AuditLog> audit_;
  std::string key_ = derive_key("a-session-secret-of-at-least-32-chars", kCookieKeyLabel);
  std::unique_ptr<BrowserSessions> sessions_;
  std::unique_ptr<SignIn> sign_in_;
  RecordingListener listener_;
  std::vector<std::function<void()>> background_;
};

TEST_F(SignInTest, LoginSetsStateCookieAndRedirectsToTheProvider) {
  SignInAnswer a = sign_in_->begin("/app/x/");
  EXPECT_EQ(a.status, 302);
  EXPECT_THAT(a.location, StartsWith("https://idp.example/auth?"));
  EXPECT_EQ(query_value(a.location, "state").size(), 32u);
  EXPECT_EQ(query_value(a.location, "nonce").size(), 32u);
  EXPECT_EQ(query_value(a.location, "code_challenge_method"), "S256");
  ASSERT_EQ(a.set_cookies.size(), 1u);
  EXPECT_THAT(a.set_cookies[0], HasSubstr("; Path=/; HttpOnly; SameSite=Lax; Max-Age=300; Secure"));
  auto state = decode_state_cookie(key_, *set_cookie_value(a.set_cookies, "blockyard_oidc_state"));
  ASSERT_TRUE(state);
  EXPECT_EQ(state->return_url, "/app/x/");
  EXPECT_EQ(code_challenge_s256(state->code_verifier), query_value(a.location, "code_challenge"));
}

TEST_F(SignInTest, FullFlowStartsASessionAndReturnsToTheApp) {
  SignInAnswer a = sign_in();
  EXPECT_EQ(a.status, 302);
  EXPECT_EQ(a.location, "/app/sales/");
  EXPECT_TRUE(a.message.empty());
  bool state_cleared = false;
  for (const auto& c : a.set_cookies) {
    if (c.starts_with("blockyard_oidc_state=;")) state_cleared = c.find("Max-Age=0") != c.npos;
  }
  EXPECT_TRUE(state_cleared);
  auto check = sessions_->check(session_cookie(a));
  ASSERT_TRUE(check.caller);
  EXPECT_EQ(check.caller->sub, "test-sub");
  EXPECT_EQ(check.caller->name, "Test User");
  EXPECT_EQ(check.caller->role, "viewer");
  EXPECT_EQ(check.caller->credential, Credential::session);

  // The PKCE verifier went to the token endpoint.
  bool sent_verifier = false;
  for (const auto& call : idp_->calls) {
    if (call.url.ends_with("/token"))
      sent_verifier = call.body.find("code_verifier=") != std::string::npos;
  }
  EXPECT_TRUE(sent_verifier);

  auto lines = audit_lines();
  ASSERT_EQ(lines.size(), 1u);
  EXPECT_EQ(lines[0]["action"], "user.login");
  EXPECT_EQ(lines[0]["actor"], "test-sub");
  EXPECT_EQ(lines[0]["source_ip"], "198.51.100.4");
  EXPECT_EQ(lines[0]["outcome"], "success");
}

TEST_F(SignInTest, MaliciousReturnUrlsLandOnTheRoot) {
  EXPECT_EQ(sign_in("https://evil.com/").location, "/");
  EXPECT_EQ(sign_in("//evil.com").location, "/");
}

TEST_F(SignInTest, StateProblemsAre400) {
  SignInAnswer start = sign_in_->begin("/");
  auto cookie = set_cookie_value(start.set_cookies, "blockyard_oidc_state");
  EXPECT_EQ(sign_in_->finish({"wrong-state", "c", "", ""}, cookie, "").status, 400);
  EXPECT_EQ(sign_in_->finish({query_value(start.location, "state"), "c", "", ""}, std::nullopt, "")
                .status,
            400)
      << "no state cookie";
  std::string tampered = *cookie;
  tampered.back() = tampered.back() == 'A' ? 'B' : 'A';
  EXPECT_EQ(
      sign_in_->finish({query_value(start.location, "state"), "c", "", ""}, tampered, "").status,
      400);
  EXPECT_EQ(idp_->token_requests, 0) << "nothing reaches the provider without a valid state";
}

TEST_F(SignInTest, ProviderFailuresAre502AndNonceMismatch400) {
  idp_->token_status = 400;
  SignInAnswer failed = sign_in();
  EXPECT_EQ(failed.status, 502);
  EXPECT_THAT(failed.message, HasSubstr("Sign-in failed"));
  idp_->token_status = 200;

  SignInAnswer start = sign_in_->begin("/");
  idp_->nonce = "not-the-nonce";
  SignInAnswer mismatch =
      sign_in_->finish({query_value(start.location, "state"), "c", "", ""},
                       set_cookie_value(start.set_cookies, "blockyard_oidc_state"), "");
  EXPECT_EQ(mismatch.status, 400);

  idp_->id_claims.erase("sub");
  EXPECT_EQ(sign_in().status, 502) << "an ID token without sub is a provider failure";

  auto lines = audit_lines();
  ASSERT_EQ(lines.size(), 3u);
  for (const auto& line : lines) {
    EXPECT_EQ(line["action"], "user.login");
    EXPECT_EQ(line["outcome"], "failure");
  }
}

TEST_F(SignInTest, ProviderRefusalIsReportedNotAnError) {
  SignInAnswer start = sign_in_->begin("/");
  SignInAnswer a = sign_in_->finish(
      {query_value(start.location, "state"), "", "access_denied", "user cancelled"},
      set_cookie_value(start.set_cookies, "blockyard_oidc_state"), "");
  EXPECT_EQ(a.status, 403);
  EXPECT_THAT(a.message, HasSubstr("access_denied: user cancelled"));
}

TEST_F(SignInTest, RolesOnFirstSignInAndPreservedAfter) {
  make(Options{"publisher", "", "", std::chrono::seconds(3600)});
  sign_in();
  EXPECT_EQ(store_->get_user("test-sub")->role, "publisher");
  store_->update_user("test-sub", std::string("viewer"), std::nullopt);
  sign_in();
  EXPECT_EQ(store_->get_user("test-sub")->role, "viewer") << "re-login keeps the stored role";

  idp_->id_claims["sub"] = "boss";
  make(Options{"viewer", "boss", "", std::chrono::seconds(3600)});
  sign_in();
  EXPECT_EQ(store_->get_user("boss")->role, "admin");
}

TEST_F(SignInTest, DeactivatedUsersAreRefused) {
  sign_in();
  store_->update_user("test-sub", std::nullopt, false);
  SignInAnswer a = sign_in();
  EXPECT_EQ(a.status, 403);
  EXPECT_THAT(a.message, HasSubstr("deactivated"));
  EXPECT_FALSE(set_cookie_value(a.set_cookies, "blockyard_session"));
  EXPECT_EQ(audit_lines().back()["outcome"], "denied");
}

TEST_F(SignInTest, ProfileAndGroupsComeFromUserinfoToo) {
  make(Options{"viewer", "", "groups", std::chrono::seconds(3600)});
  idp_->id_claims = {{"sub", "u1"}};
  idp_->userinfo_claims = {
      {"name", "Una"}, {"email", "una@example.org"}, {"groups", {"analysts", "finance", 7}}};
  auto check = sessions_->check(session_cookie(sign_in()));
  ASSERT_TRUE(check.caller);
  EXPECT_EQ(check.caller->name, "Una");
  EXPECT_THAT(check.caller->groups, ::testing::ElementsAre("analysts", "finance"));
  EXPECT_EQ(store_->get_user("u1")->email, "una@example.org");

  // Userinfo for another subject is ignored.
  idp_->userinfo_claims = {{"sub", "someone-else"}, {"name", "Mallory"}};
  sign_in();
  EXPECT_EQ(store_->get_user("u1")->name, "Una");
}

TEST_F(SignInTest, TamperedExpiredAndOrphanedCookiesGiveNoIdentity) {
  std::string cookie = session_cookie(sign_in());
  std::string tampered = cookie;
  tampered[3] = tampered[3] == 'a' ? 'b' : 'a';
  EXPECT_FALSE(sessions_->check(tampered).caller);
  EXPECT_TRUE(sessions_->check(tampered).clear_cookie);

  auto later = BrowserSessions::Clock::now() + std::chrono::seconds(3601);
  auto expired = sessions_->check(cookie, later);
  EXPECT_FALSE(expired.caller) << "older than cookie_max_age";
  EXPECT_TRUE(expired.clear_cookie);

  std::string other = session_cookie(sign_in());
  ASSERT_TRUE(sessions_->check(other).caller);
  store_->delete_session(*sessions_->session_id_of(other));
  auto orphan = sessions_->check(other);
  EXPECT_FALSE(orphan.caller) << "valid signature, no server session";
  EXPECT_TRUE(orphan.clear_cookie);
}

TEST_F(SignInTest, RoleChangesAndDeactivationTakeEffectOnTheNextRequest) {
  std::string cookie = session_cookie(sign_in());
  ASSERT_EQ(sessions_->check(cookie).caller->role, "viewer");
  ASSERT_TRUE(sessions_->check_cached(cookie));
  store_->update_user("test-sub", std::string("publisher"), std::nullopt);
  EXPECT_FALSE(sessions_->check_cached(cookie)) << "a store write invalidates the cache";
  EXPECT_EQ(sessions_->check(cookie).caller->role, "publisher");
  store_->update_user("test-sub", std::nullopt, false);
  EXPECT_FALSE(sessions_->check(cookie).caller);
  EXPECT_EQ(listener_.ended.size(), 1u) << "the deactivated user's session ended";
}

TEST_F(SignInTest, EachBrowserHasItsOwnSessionAndSignOutEndsOnlyOne) {
  std::string laptop = session_cookie(sign_in());
  std::string phone = session_cookie(sign_in());
  SignInAnswer out = sign_in_->sign_out(laptop, "198.51.100.4");
  EXPECT_EQ(out.status, 302);
  EXPECT_THAT(out.location, StartsWith("https://idp.example/session/end?client_id=blockyard"));
  EXPECT_THAT(out.location, HasSubstr("id_token_hint="));
  EXPECT_THAT(out.set_cookies[0], StartsWith("blockyard_session=; Path=/; HttpOnly; Max-Age=0"));
  EXPECT_FALSE(sessions_->check(laptop).caller);
  EXPECT_TRUE(sessions_->check(phone).caller);
  ASSERT_EQ(listener_.ended.size(), 1u);
  EXPECT_EQ(listener_.ended[0], *sessions_->session_id_of(laptop));
  EXPECT_EQ(audit_lines().back()["action"], "user.logout");

  SignInAnswer again = sign_in_->sign_out(laptop, "");
  EXPECT_EQ(again.location, "/signed-out") << "no session: no IdP round trip";
  EXPECT_EQ(sign_in_->sign_out(std::nullopt, "").location, "/signed-out");
}

TEST_F(SignInTest, ExpiredAccessTokenIsRefreshedBeforeAnswering) {
  idp_->expires_in = 30;  // already inside the refresh window
  std::string cookie = session_cookie(sign_in());
  const int before = idp_->refresh_requests;
  auto soon = BrowserSessions::Clock::now() + std::chrono::seconds(40);  // token expired
  auto check = sessions_->check(cookie, soon);
  ASSERT_TRUE(check.caller);
  EXPECT_EQ(idp_->refresh_requests, before + 1);
  auto session = store_->get_session(*sessions_->session_id_of(cookie));
  EXPECT_EQ(session->access_token, "access-" + std::to_string(idp_->token_requests));
}

TEST_F(SignInTest, TokenNearExpiryIsRefreshedInTheBackground) {
  idp_->expires_in = 30;
  std::string cookie = session_cookie(sign_in());
  auto check = sessions_->check(cookie);
  ASSERT_TRUE(check.caller) << "still valid: answered at once";
  EXPECT_EQ(idp_->refresh_requests, 0);
  ASSERT_EQ(background_.size(), 1u);
  idp_->expires_in = 3600;
  run_background();
  EXPECT_EQ(idp_->refresh_requests, 1);
  EXPECT_GT(
      store::parse_rfc3339(store_->get_session(*sessions_->session_id_of(cookie))->token_expires_at)
          .value(),
      BrowserSessions::Clock::now() + std::chrono::minutes(50));
}

TEST_F(SignInTest, RefusedRefreshEndsTheSessionButAnOutageDoesNot) {
  idp_->expires_in = 30;
  std::string cookie = session_cookie(sign_in());
  auto soon = BrowserSessions::Clock::now() + std::chrono::seconds(40);

  idp_->unreachable = true;
  EXPECT_TRUE(sessions_->check(cookie, soon).caller) << "provider down: keep the sign-in";
  EXPECT_TRUE(listener_.ended.empty());

  idp_->unreachable = false;
  idp_->token_status = 400;
  auto refused = sessions_->check(cookie, soon + kProviderRetryPause);
  EXPECT_FALSE(refused.caller);
  EXPECT_TRUE(refused.clear_cookie);
  EXPECT_EQ(listener_.ended.size(), 1u);
  EXPECT_FALSE(store_->get_session(*sessions_->session_id_of(cookie)));
}

// A provider that does not answer (a firewall drops the packets) costs a
// request the fetch timeout; after one such failure, refreshes of every
// session skip the provider for kProviderRetryPause instead of each waiting
// in turn.
TEST_F(SignInTest, AnUnreachableProviderIsNotAskedAgainForAWhile) {
  idp_->expires_in = 30;
  std::string alice = session_cookie(sign_in());
  std::string laptop = session_cookie(sign_in());
  auto token_calls = [&] {
    return std::count_if(idp_->calls.begin(), idp_->calls.end(),
                         [&](const HttpCall& c) { return c.url == idp_->issuer_ + "/token"; });
  };
  auto soon = BrowserSessions::Clock::now() + std::chrono::seconds(40);  // tokens expired
  idp_->unreachable = true;
  const auto before = token_calls();
  EXPECT_TRUE(sessions_->check(alice, soon).caller);
  EXPECT_EQ(token_calls(), before + 1);
  EXPECT_TRUE(sessions_->check(alice, soon + std::chrono::seconds(5)).caller);
  EXPECT_TRUE(sessions_->check(laptop, soon + std::chrono::seconds(5)).caller);
  EXPECT_EQ(token_calls(), before + 1) << "the provider was asked again during the pause";

  // After the pause the provider is tried again, and refreshes resume.
  idp_->unreachable = false;
  auto later = soon + kProviderRetryPause + std::chrono::seconds(1);
  EXPECT_TRUE(sessions_->check(laptop, later).caller);
  EXPECT_EQ(token_calls(), before + 2);
  EXPECT_EQ(store_->get_session(*sessions_->session_id_of(laptop))->access_token,
            "access-" + std::to_string(idp_->token_requests));
}

TEST_F(SignInTest, EndAllSignsAUserOutEverywhere) {
  std::string a = session_cookie(sign_in());
  std::string b = session_cookie(sign_in());
  sessions_->end_all("test-sub");
  EXPECT_FALSE(sessions_->check(a).caller);
  EXPECT_FALSE(sessions_->check(b).caller);
  EXPECT_THAT(listener_.users, ::testing::ElementsAre("test-sub"));
}

TEST(CliLogin, CodesWorkOnceWithTheirVerifierOnly) {
  CliLogin cli("key");
  std::string verifier = make_code_verifier();
  std::string code = cli.issue("alice", code_challenge_s256(verifier), "by on laptop");
  EXPECT_FALSE(cli.redeem("unknown", verifier));
  auto grant = cli.redeem(code, verifier);
  ASSERT_TRUE(grant);
  EXPECT_EQ(grant->sub, "alice");
  EXPECT_EQ(grant->token_name, "by on laptop");
  EXPECT_FALSE(cli.redeem(code, verifier)) << "one use";

  std::string code2 = cli.issue("alice", code_challenge_s256(verifier), "x");
  EXPECT_FALSE(cli.redeem(code2, make_code_verifier())) << "wrong verifier";
  EXPECT_FALSE(cli.redeem(code2, verifier)) << "a wrong verifier burns the code";

  auto now = CliLogin::Clock::now();
  std::string code3 = cli.issue("alice", code_challenge_s256(verifier), "x", now);
  EXPECT_FALSE(cli.redeem(code3, verifier, now + CliLogin::kCodeLifetime)) << "expired";
}

TEST(CliLogin, FormTokensAreBoundToTheSession) {
  CliLogin cli("key");
  std::string t = cli.form_token("session-a");
  EXPECT_TRUE(cli.form_token_valid("session-a", t));
  EXPECT_FALSE(cli.form_token_valid("session-b", t));
  EXPECT_FALSE(cli.form_token_valid("", cli.form_token("")));
  EXPECT_FALSE(CliLogin("other key").form_token_valid("session-a", t));
  EXPECT_TRUE(is_code_challenge(code_challenge_s256("v")));
  EXPECT_FALSE(is_code_challenge("short"));
}

}  // namespace
}  // namespace blockyard::auth
