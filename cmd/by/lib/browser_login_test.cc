#include "lib/browser_login.h"

#include <gtest/gtest.h>

#include "core/base64.h"
#include "core/crypto.h"

namespace blockyard::cli {
namespace {

TEST(BrowserLogin, ChallengeIsTheS256OfTheVerifier) {
  auto a = new_browser_login();
  auto b = new_browser_login();
  EXPECT_NE(a.state, b.state);
  EXPECT_NE(a.code_verifier, b.code_verifier);
  EXPECT_EQ(a.code_verifier.size(), 43u);
  EXPECT_EQ(a.code_challenge, base64url_encode(sha256(a.code_verifier)));
}

TEST(BrowserLogin, UrlCarriesPortStateChallengeAndName) {
  BrowserLoginRequest r{"st", "v", "chal-lenge_"};
  EXPECT_EQ(browser_login_url("http://by:8080", 41234, r, "by on host 1"),
            "http://by:8080/login/cli?port=41234&state=st&code_challenge=chal-lenge_&name=by%20on%"
            "20host%201");
}

TEST(BrowserLogin, ParsesOnlyTheCallbackRequest) {
  auto params = parse_callback_request(
      "GET /callback?code=abc%2Bd&state=x%20y&error= HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n");
  ASSERT_TRUE(params);
  EXPECT_EQ((*params)["code"], "abc+d");
  EXPECT_EQ((*params)["state"], "x y");
  EXPECT_EQ((*params)["error"], "");
  EXPECT_FALSE(parse_callback_request("GET /favicon.ico HTTP/1.1\r\n\r\n"));
  EXPECT_FALSE(parse_callback_request("POST /callback?code=1 HTTP/1.1\r\n\r\n"));
  EXPECT_FALSE(parse_callback_request("garbage"));
}

}  // namespace
}  // namespace blockyard::cli
