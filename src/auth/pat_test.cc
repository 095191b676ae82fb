#include "auth/pat.h"

#include <gtest/gtest.h>

#include <fstream>
#include <iterator>
#include <set>

#include "core/crypto.h"
#include "core/error.h"
#include "core/test_api_error.h"
#include "store/store.h"
#include "store/test_temp_dir.h"
#include "store/timestamp.h"

namespace blockyard::auth {
namespace {

using blockyard::testing::TempDir;
using std::chrono::hours;
using std::chrono::minutes;
using std::chrono::seconds;
using std::chrono::system_clock;

constexpr std::string_view kBase62 =
    "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

using blockyard::testing::api_status_of;

class PatTest : public ::testing::Test {
 protected:
  void SetUp() override {
    store_ = store::open_sqlite_store(dir_.path() / "by.db");
    add_user("alice", "Alice A.", "publisher");
  }

  void add_user(const std::string& sub, const std::string& name, const std::string& role) {
    store::User user;
    user.sub = sub;
    user.name = name;
    user.role = role;
    store_->upsert_user(user);
  }

  void expect_rejected(const std::string& token) {
    try {
      authenticate_token(*store_, token);
      ADD_FAILURE() << "accepted " << token;
    } catch (const ApiError& e) {
      EXPECT_EQ(e.status(), 401);
      EXPECT_STREQ(e.what(), "invalid or expired token");
    }
  }

  TempDir dir_;
  std::unique_ptr<store::Store> store_;
};

TEST(Token, HasPrefixAndBase62BodyOf32Bytes) {
  for (int i = 0; i < 50; ++i) {
    std::string token = generate_token();
    ASSERT_TRUE(token.starts_with("by_")) << token;
    std::string body = token.substr(3);
    // 256 random bits need at most 43 base62 digits; fewer only when the
    // high-order bytes happen to be small.
    EXPECT_GE(body.size(), 38u) << token;
    EXPECT_LE(body.size(), 43u) << token;
    EXPECT_EQ(body.find_first_not_of(kBase62), std::string::npos) << token;
  }
}

TEST(Token, EveryTokenIsDifferent) {
  std::set<std::string> seen;
  for (int i = 0; i < 1000; ++i) seen.insert(generate_token());
  EXPECT_EQ(seen.size(), 1000u);
}

TEST(Token, HashIsSha256HexOfTheWholePlaintext) {
  std::string token = generate_token();
  std::string hash = hash_token(token);
  EXPECT_EQ(hash, sha256_hex(token));
  EXPECT_EQ(hash.size(), 64u);
  EXPECT_EQ(hash.find_first_not_of("0123456789abcdef"), std::string::npos);
  EXPECT_NE(hash, hash_token(token.substr(3)));
}

TEST_F(PatTest, IssuedTokenAuthenticatesAsItsUser) {
  std::string token = issue_pat(*store_, "alice", "laptop", std::nullopt);
  Caller caller = authenticate_token(*store_, token);
  EXPECT_EQ(caller.sub, "alice");
  EXPECT_EQ(caller.name, "Alice A.");
  EXPECT_EQ(caller.role, "publisher");

  auto pats = store_->list_pats("alice");
  ASSERT_EQ(pats.size(), 1u);
  EXPECT_EQ(pats[0].name, "laptop");
  EXPECT_TRUE(is_uuid(pats[0].id));
  EXPECT_EQ(pats[0].token_hash, hash_token(token));
  ASSERT_TRUE(pats[0].last_used_at) << "authentication records the use";
  auto used = store::parse_rfc3339(*pats[0].last_used_at);
  ASSERT_TRUE(used);
  EXPECT_LT(std::chrono::abs(system_clock::now() - *used), seconds(5));
}

TEST_F(PatTest, OnlyTheHashIsStored) {
  std::string token = issue_pat(*store_, "alice", "laptop", std::nullopt);
  store_.reset();  // flush and close

  std::string bytes;
  for (const auto& entry : std::filesystem::directory_iterator(dir_.path())) {
    std::ifstream in(entry.path(), std::ios::binary);
    bytes.append(std::istreambuf_iterator<char>(in), {});
  }
  EXPECT_NE(bytes.find(hash_token(token)), std::string::npos) << "scan sees the database";
  EXPECT_EQ(bytes.find(token), std::string::npos);
  EXPECT_EQ(bytes.find(token.substr(3)), std::string::npos);
}

TEST_F(PatTest, IssuingForUnknownUserFails) {
  try {
    issue_pat(*store_, "ghost", "x", std::nullopt);
    ADD_FAILURE() << "issued a token to an unknown user";
  } catch (const store::StoreError& e) {
    EXPECT_EQ(e.kind(), store::StoreErrorKind::not_found);
  }
}

TEST_F(PatTest, DisplayNameFallsBackToSub) {
  add_user("bob", "", "viewer");
  Caller caller = authenticate_token(*store_, issue_pat(*store_, "bob", "ci", std::nullopt));
  EXPECT_EQ(caller.name, "bob");
  EXPECT_EQ(caller.role, "viewer");
}

TEST_F(PatTest, UnknownTokenIsRejected) {
  issue_pat(*store_, "alice", "laptop", std::nullopt);
  expect_rejected(generate_token());
  expect_rejected("");
  expect_rejected("by_");
}

TEST_F(PatTest, TokenWithoutPrefixIsRejectedEvenIfItsHashIsStored) {
  store::PersonalAccessToken pat;
  pat.id = uuid_v4();
  pat.user_sub = "alice";
  pat.name = "legacy";
  pat.token_hash = hash_token("abcdef123456");
  pat.created_at = "2026-01-01T00:00:00Z";
  store_->create_pat(pat);
  expect_rejected("abcdef123456");
  expect_rejected("Bearer by_abcdef123456");
}

TEST_F(PatTest, RevokedTokenIsRejected) {
  std::string token = issue_pat(*store_, "alice", "laptop", std::nullopt);
  authenticate_token(*store_, token);
  ASSERT_TRUE(store_->revoke_pat("alice", store_->list_pats("alice").at(0).id));
  expect_rejected(token);
}

TEST_F(PatTest, ExpiryIsEnforced) {
  std::string past = store::format_rfc3339(system_clock::now() - seconds(1));
  std::string future = store::format_rfc3339(system_clock::now() + hours(1));
  std::string expired = issue_pat(*store_, "alice", "old", past);
  std::string valid = issue_pat(*store_, "alice", "new", future);
  std::string garbled = issue_pat(*store_, "alice", "odd", std::string("next tuesday"));

  expect_rejected(expired);
  EXPECT_EQ(authenticate_token(*store_, valid).sub, "alice");
  expect_rejected(garbled);  // an unreadable deadline fails closed
}

TEST_F(PatTest, InactiveUserIsRejectedAndRoleIsReadPerRequest) {
  std::string token = issue_pat(*store_, "alice", "laptop", std::nullopt);
  add_user("alice", "Alice A.", "admin");
  EXPECT_EQ(authenticate_token(*store_, token).role, "admin");

  auto user = *store_->get_user("alice");
  user.active = false;
  store_->upsert_user(user);
  expect_rejected(token);

  user.active = true;
  store_->upsert_user(user);
  EXPECT_EQ(authenticate_token(*store_, token).sub, "alice");
}

TEST(ExpiryFromNow, AddsDaysHoursMinutes) {
  struct Case {
    const char* input;
    system_clock::duration expected;
  };
  for (const auto& c : {Case{"90d", hours(24 * 90)}, Case{"12h", hours(12)},
                        Case{"30m", minutes(30)}, Case{"1d", hours(24)}}) {
    auto before = system_clock::now();
    auto parsed = store::parse_rfc3339(expiry_from_now(c.input));
    ASSERT_TRUE(parsed) << c.input;
    auto delta = *parsed - before;
    EXPECT_GT(delta, c.expected - seconds(2)) << c.input;
    EXPECT_LT(delta, c.expected + seconds(2)) << c.input;
  }
}

TEST(ExpiryFromNow, RejectsBadFormats) {
  for (const char* bad : {"", "d", "90", "90w", "-1d", "0d", "1.5h", " 90d", "90d ", "90D",
                          "99999999999999999999d", "40000d", "+5m"}) {
    EXPECT_EQ(api_status_of([&] { expiry_from_now(bad); }), 400) << bad;
  }
}

}  // namespace
}  // namespace blockyard::auth
