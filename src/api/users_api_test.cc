#include <gmock/gmock.h>

#include "api/api_test_fixture.h"

namespace blockyard::api::testing {
namespace {

TEST_F(ApiTest, MeDescribesTheCaller) {
  auto response = call("GET", "/api/v1/users/me", publisher_token_);
  ASSERT_EQ(response.status, 200);
  EXPECT_EQ(body_of(response), (json{{"sub", "publisher-sub"},
                                     {"email", "publisher-sub@example.org"},
                                     {"name", "User publisher-sub"},
                                     {"role", "publisher"}}));
}

TEST_F(ApiTest, TokensCanBeCreatedListedUsedAndRevoked) {
  auto created = call("POST", "/api/v1/users/me/tokens", viewer_token_,
                      json{{"name", "laptop"}, {"expires_in", "30d"}}.dump());
  ASSERT_EQ(created.status, 201) << created.body;
  json token = body_of(created);
  EXPECT_EQ(token["name"], "laptop");
  EXPECT_TRUE(token["expires_at"].is_string());
  std::string plaintext = token["token"];
  EXPECT_EQ(plaintext.rfind("by_", 0), 0u);

  // The new token authenticates as its owner.
  EXPECT_EQ(body_of(call("GET", "/api/v1/users/me", plaintext))["sub"], "viewer-sub");

  json listed = body_of(call("GET", "/api/v1/users/me/tokens", viewer_token_));
  ASSERT_EQ(listed.size(), 2u);  // the fixture's token and "laptop"
  for (const auto& pat : listed) {
    EXPECT_EQ(pat["user_sub"], "viewer-sub");
    EXPECT_FALSE(pat.contains("token"));
    EXPECT_FALSE(pat.contains("token_hash"));
  }

  std::string id = token["id"];
  EXPECT_EQ(call("DELETE", "/api/v1/users/me/tokens/" + id, viewer_token_).status, 204);
  EXPECT_EQ(call("GET", "/api/v1/users/me", plaintext).status, 401);
  EXPECT_EQ(body_of(call("GET", "/api/v1/users/me/tokens", viewer_token_)).size(), 1u);
  auto again = call("DELETE", "/api/v1/users/me/tokens/" + id, viewer_token_);
  EXPECT_EQ(again.status, 404);
  EXPECT_EQ(body_of(again)["message"], "token not found");
}

TEST_F(ApiTest, CannotRevokeSomeoneElsesToken) {
  json token = body_of(
      call("POST", "/api/v1/users/me/tokens", viewer_token_, json{{"name", "mine"}}.dump()));
  auto response =
      call("DELETE", "/api/v1/users/me/tokens/" + token["id"].get<std::string>(), publisher_token_);
  EXPECT_EQ(response.status, 404);
  EXPECT_EQ(call("GET", "/api/v1/users/me", token["token"]).status, 200);
}

TEST_F(ApiTest, RevokeAllLocksTheCallerOut) {
  EXPECT_EQ(call("DELETE", "/api/v1/users/me/tokens", viewer_token_).status, 204);
  EXPECT_EQ(call("GET", "/api/v1/users/me", viewer_token_).status, 401);
  EXPECT_EQ(call("GET", "/api/v1/users/me", publisher_token_).status, 200);
}

TEST_F(ApiTest, TokenCreationValidatesInput) {
  auto nameless = call("POST", "/api/v1/users/me/tokens", viewer_token_, "{}");
  EXPECT_EQ(nameless.status, 400);
  EXPECT_EQ(body_of(nameless)["message"], "name is required");
  auto bad_expiry = call("POST", "/api/v1/users/me/tokens", viewer_token_,
                         json{{"name", "x"}, {"expires_in", "soon"}}.dump());
  EXPECT_EQ(bad_expiry.status, 400);
}

TEST_F(ApiTest, UserAdministrationIsAdminOnly) {
  auto denied = call("GET", "/api/v1/users", publisher_token_);
  EXPECT_EQ(denied.status, 403);
  EXPECT_EQ(body_of(denied)["message"], "admin only");

  auto users = body_of(call("GET", "/api/v1/users", admin_token_));
  ASSERT_TRUE(users.is_array());
  std::vector<std::string> subs;
  for (const auto& u : users) subs.push_back(u["sub"]);
  EXPECT_THAT(subs, ::testing::UnorderedElementsAre("admin-sub", "publisher-sub", "viewer-sub"));

  EXPECT_EQ(body_of(call("GET", "/api/v1/users/viewer-sub", admin_token_))["role"], "viewer");
  EXPECT_EQ(call("GET", "/api/v1/users/nobody", admin_token_).status, 404);
}

TEST_F(ApiTest, AdminChangesRolesAndDeactivates) {
  auto promoted =
      call("PATCH", "/api/v1/users/viewer-sub", admin_token_, json{{"role", "publisher"}}.dump());
  ASSERT_EQ(promoted.status, 200) << promoted.body;
  EXPECT_EQ(body_of(promoted)["role"], "publisher");
  // The new role applies to the user's next request.
  EXPECT_EQ(call("POST", "/api/v1/apps", viewer_token_, json{{"name", "now-ok"}}.dump()).status,
            201);

  auto bad = call("PATCH", "/api/v1/users/viewer-sub", admin_token_, json{{"role", "root"}}.dump());
  EXPECT_EQ(body_of(bad)["message"],
            "invalid role 'root', must be one of: admin, publisher, viewer");
  auto self =
      call("PATCH", "/api/v1/users/admin-sub", admin_token_, json{{"active", false}}.dump());
  EXPECT_EQ(body_of(self)["message"], "cannot modify your own account");
  auto empty = call("PATCH", "/api/v1/users/viewer-sub", admin_token_, "{}");
  EXPECT_EQ(body_of(empty)["message"], "nothing to update");

  ASSERT_EQ(call("PATCH", "/api/v1/users/viewer-sub", admin_token_, json{{"active", false}}.dump())
                .status,
            200);
  EXPECT_EQ(call("GET", "/api/v1/users/me", viewer_token_).status, 401);
}

}  // namespace
}  // namespace blockyard::api::testing
