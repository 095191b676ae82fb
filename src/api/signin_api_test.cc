// The API with browser sessions (as with [oidc]): cookie authentication,
// CSRF refusal, token creation from a session only, deactivation ending
// sessions, the bootstrap exchange, and the audit lines of each (§8.11
// items 111, 113).
#include <gmock/gmock.h>

#include <atomic>
#include <thread>

#include "api/api_test_fixture.h"
#include "api/bootstrap.h"
#include "core/crypto.h"

namespace blockyard::api::testing {
namespace {

using Headers = std::vector<std::pair<std::string, std::string>>;

TEST_F(ApiTest, SessionCookieAuthenticatesTheApi) {
  std::string cookie = sign_in_as("publisher-sub", {"analysts"});
  auto me = call("GET", "/api/v1/users/me", "", "", {{"Cookie", cookie}});
  ASSERT_EQ(me.status, 200) << me.body;
  EXPECT_EQ(body_of(me)["sub"], "publisher-sub");
  EXPECT_EQ(body_of(me)["groups"], json::array({"analysts"}));
  EXPECT_EQ(call("GET", "/api/v1/users/me", "", "", {{"Cookie", cookie + "x"}}).status, 401)
      << "a tampered cookie is no credential";
}

TEST_F(ApiTest, CookieAuthenticatedWritesMustComeFromOurOrigin) {
  std::string cookie = sign_in_as("publisher-sub");
  // A form posted from another site (or a sibling origin of the same site).
  auto cross = call(
      "POST", "/api/v1/apps", "", json{{"name", "csrf"}}.dump(),
      {{"Cookie", cookie}, {"Sec-Fetch-Site", "same-site"}, {"Origin", "http://by.test:9999"}});
  EXPECT_EQ(cross.status, 403);
  EXPECT_EQ(body_of(cross)["message"], "cross-site request refused");
  auto no_evidence =
      call("POST", "/api/v1/apps", "", json{{"name", "csrf"}}.dump(), {{"Cookie", cookie}});
  EXPECT_EQ(no_evidence.status, 403);
  auto foreign_origin = call("POST", "/api/v1/apps", "", json{{"name", "csrf"}}.dump(),
                             {{"Cookie", cookie}, {"Origin", "https://evil.example"}});
  EXPECT_EQ(foreign_origin.status, 403);
  EXPECT_FALSE(store_->get_app_by_name("csrf"));

  // Our own page's fetch.
  EXPECT_EQ(call("POST", "/api/v1/apps", "", json{{"name", "csrf"}}.dump(),
                 {{"Cookie", cookie}, {"Sec-Fetch-Site", "same-origin"}})
                .status,
            201);
  EXPECT_EQ(call("POST", "/api/v1/apps/csrf/disable", "", "",
                 {{"Cookie", cookie}, {"Origin", "http://by.test:8080"}})
                .status,
            200)
      << "Origin equal to external_url's origin";
  // Reads are never refused, and tokens are not subject to the rule.
  EXPECT_EQ(call("GET", "/api/v1/apps/csrf", "", "",
                 {{"Cookie", cookie}, {"Sec-Fetch-Site", "cross-site"}})
                .status,
            200);
  EXPECT_EQ(call("POST", "/api/v1/apps/csrf/enable", publisher_token_, "",
                 {{"Sec-Fetch-Site", "cross-site"}})
                .status,
            200);
}

TEST_F(ApiTest, WithSignInTokensAreCreatedFromABrowserSessionOnly) {
  std::string cookie = sign_in_as("viewer-sub");
  auto from_pat =
      call("POST", "/api/v1/users/me/tokens", viewer_token_, json{{"name", "bred"}}.dump());
  EXPECT_EQ(from_pat.status, 403);
  EXPECT_EQ(body_of(from_pat)["message"], "tokens can only be created via browser session");

  auto from_session = call("POST", "/api/v1/users/me/tokens", "", json{{"name", "laptop"}}.dump(),
                           {{"Cookie", cookie}, {"Sec-Fetch-Site", "same-origin"}});
  ASSERT_EQ(from_session.status, 201) << from_session.body;
  json token = body_of(from_session);
  EXPECT_EQ(body_of(call("GET", "/api/v1/users/me", token["token"]))["sub"], "viewer-sub");
  json line = audit_lines().back();
  EXPECT_EQ(line["action"], "token.create");
  EXPECT_EQ(line["actor"], "viewer-sub");
  EXPECT_EQ(line["target"], token["id"]);
  EXPECT_EQ(line["detail"]["name"], "laptop");
}

TEST_F(ApiTest, WithoutSignInTheLocalTokenStillCreatesTokens) {
  EXPECT_EQ(
      call("POST", "/api/v1/users/me/tokens", admin_token_, json{{"name", "ci"}}.dump()).status,
      201);
}

TEST_F(ApiTest, TokenRevocationsAreAudited) {
  json token =
      body_of(call("POST", "/api/v1/users/me/tokens", viewer_token_, json{{"name", "one"}}.dump()));
  call("DELETE", "/api/v1/users/me/tokens/" + token["id"].get<std::string>(), viewer_token_);
  call("POST", "/api/v1/users/me/tokens", viewer_token_, json{{"name", "two"}}.dump());
  call("DELETE", "/api/v1/users/me/tokens", viewer_token_);
  auto lines = audit_lines();
  ASSERT_EQ(lines.size(), 4u);
  EXPECT_EQ(lines[1]["action"], "token.revoke");
  EXPECT_EQ(lines[1]["target"], token["id"]);
  EXPECT_EQ(lines[3]["action"], "token.revoke_all");
  EXPECT_EQ(lines[3]["target"], "viewer-sub");
  EXPECT_EQ(lines[3]["detail"]["count"], 2) << "the fixture's token and \"two\"";
}

TEST_F(ApiTest, DeactivationEndsSessionsAndTokensAndIsAudited) {
  std::string cookie = sign_in_as("viewer-sub");
  ASSERT_EQ(call("GET", "/api/v1/users/me", "", "", {{"Cookie", cookie}}).status, 200);
  auto r = call("PATCH", "/api/v1/users/viewer-sub", admin_token_,
                json{{"active", false}, {"role", "publisher"}}.dump());
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(body_of(r)["active"], false);
  EXPECT_EQ(body_of(r)["role"], "publisher");
  EXPECT_EQ(call("GET", "/api/v1/users/me", "", "", {{"Cookie", cookie}}).status, 401);
  EXPECT_EQ(call("GET", "/api/v1/users/me", viewer_token_).status, 401);
  json line = audit_lines().back();
  EXPECT_EQ(line["action"], "user.update");
  EXPECT_EQ(line["actor"], "admin-sub");
  EXPECT_EQ(line["target"], "viewer-sub");
  EXPECT_EQ(line["detail"], (json{{"role", "publisher"}, {"active", false}}));

  // Reactivation lets tokens in again; the browser must sign in anew.
  call("PATCH", "/api/v1/users/viewer-sub", admin_token_, json{{"active", true}}.dump());
  EXPECT_EQ(call("GET", "/api/v1/users/me", viewer_token_).status, 200);
  EXPECT_EQ(call("GET", "/api/v1/users/me", "", "", {{"Cookie", cookie}}).status, 401);
  EXPECT_EQ(
      call("PATCH", "/api/v1/users/ghost", admin_token_, json{{"active", false}}.dump()).status,
      404);
}

// Without [oidc] (control-plane spec §8.1 items 2 and 14): there is no
// sign-in to start or finish, and /logout still expires a leftover cookie.
TEST_F(ApiTest, WithoutSignInLoginAndCallbackAre404AndLogoutClearsTheCookie) {
  EXPECT_EQ(call("GET", "/login?return_url=%2Fapp%2Fx%2F", "").status, 404);
  EXPECT_EQ(call("GET", "/callback?code=c&state=s", "").status, 404);
  EXPECT_EQ(call("GET", "/login/cli", "").status, 404);
  for (const char* method : {"GET", "POST"}) {
    auto out = call(method, "/logout", "", "", {{"Cookie", "blockyard_session=leftover"}});
    EXPECT_EQ(out.status, 302) << method;
    EXPECT_EQ(out.headers.get("Location").value_or(""), "/signed-out") << method;
    EXPECT_EQ(out.headers.get("Set-Cookie").value_or(""),
              "blockyard_session=; Path=/; HttpOnly; Max-Age=0")
        << method;
  }
  EXPECT_EQ(call("GET", "/signed-out", "").status, 200);
  EXPECT_TRUE(audit_lines().empty()) << "nothing happened worth an audit line";
}

class BootstrapTest : public ApiTest {
 protected:
  BootstrapTest() : boot_(sha256_hex("boot-secret"), "root-sub", false) {
    context_->bootstrap = &boot_;
  }
  http::Response exchange(const std::string& token, const std::string& body = "{}") {
    return call("POST", "/api/v1/bootstrap", token, body);
  }
  Bootstrap boot_;
};

TEST_F(ApiTest, BootstrapIs404WhenNotArmed) {
  EXPECT_EQ(call("POST", "/api/v1/bootstrap", "anything", "{}").status, 404);
}

TEST_F(BootstrapTest, RejectsMissingAndWrongTokensAndBadBodies) {
  auto missing = exchange("");
  EXPECT_EQ(missing.status, 401);
  EXPECT_EQ(body_of(missing)["message"], "bearer token required");
  auto wrong = exchange("not-the-secret");
  EXPECT_EQ(wrong.status, 401);
  EXPECT_EQ(body_of(wrong)["message"], "invalid bootstrap token");
  EXPECT_EQ(audit_lines().back()["outcome"], "denied");
  EXPECT_EQ(exchange("boot-secret", "not json").status, 400);
  EXPECT_EQ(exchange("boot-secret", json{{"expires_in", "forever"}}.dump()).status, 400);
  EXPECT_FALSE(boot_.redeemed()) << "failed attempts do not burn the token";
}

TEST_F(BootstrapTest, RedeemsOnceForTheInitialAdmin) {
  auto r = exchange("boot-secret", json{{"expires_in", "1h"}}.dump());
  ASSERT_EQ(r.status, 201) << r.body;
  json token = body_of(r);
  EXPECT_EQ(token["name"], "bootstrap");
  EXPECT_TRUE(token["expires_at"].is_string());
  auto me = body_of(call("GET", "/api/v1/users/me", token["token"]));
  EXPECT_EQ(me["sub"], "root-sub");
  EXPECT_EQ(me["role"], "admin");
  EXPECT_EQ(me["email"], "bootstrap@blockyard.local");
  EXPECT_EQ(exchange("boot-secret").status, 410);
  // The burn is stored: a restarted server finds it.
  EXPECT_TRUE(store_->find_pat_by_hash(sha256_hex("boot-secret"))->revoked);
  json line = audit_lines().back();
  EXPECT_EQ(line["action"], "token.create");
  EXPECT_EQ(line["actor"], "root-sub");
  EXPECT_EQ(line["detail"]["bootstrap"], true);
}

TEST_F(BootstrapTest, KeepsAnExistingAdminsProfile) {
  store::User user;
  user.sub = "root-sub";
  user.name = "Rita Root";
  user.email = "rita@example.org";
  user.role = "admin";
  store_->upsert_user(user);
  ASSERT_EQ(exchange("boot-secret").status, 201);
  EXPECT_EQ(store_->get_user("root-sub")->name, "Rita Root");
}

TEST_F(BootstrapTest, EightConcurrentExchangesHaveOneWinnerAndNoOrphans) {
  std::vector<int> statuses(8);
  std::vector<std::thread> threads;
  for (int i = 0; i < 8; ++i) {
    threads.emplace_back([&, i] { statuses[i] = exchange("boot-secret").status; });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(std::count(statuses.begin(), statuses.end(), 201), 1);
  EXPECT_EQ(std::count(statuses.begin(), statuses.end(), 410), 7);
  EXPECT_EQ(store_->list_pats("root-sub").size(), 1u) << "losers leave no token rows";
}

TEST_F(BootstrapTest, ABurnFromAnEarlierRunIs410) {
  ASSERT_EQ(exchange("boot-secret").status, 201);
  Bootstrap restarted(sha256_hex("boot-secret"), "root-sub",
                      store_->find_pat_by_hash(sha256_hex("boot-secret")).has_value());
  context_->bootstrap = &restarted;
  EXPECT_EQ(exchange("boot-secret").status, 410);
  // Even if this process believed it armed, the store refuses a second burn.
  Bootstrap stale(sha256_hex("boot-secret"), "root-sub", false);
  context_->bootstrap = &stale;
  EXPECT_EQ(exchange("boot-secret").status, 410);
  EXPECT_EQ(store_->list_pats("root-sub").size(), 1u);
  context_->bootstrap = &boot_;
}

}  // namespace
}  // namespace blockyard::api::testing
