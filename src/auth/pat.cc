#include "auth/pat.h"

#include <spdlog/spdlog.h>

#include <charconv>
#include <chrono>

#include "core/crypto.h"
#include "core/error.h"
#include "store/timestamp.h"

namespace blockyard::auth {
namespace {

constexpr std::size_t kTokenEntropyBytes = 32;

ApiError invalid_token() {
  return ApiError::unauthorized("invalid or expired token");
}

bool is_expired(const std::optional<std::string>& expires_at) {
  if (!expires_at) return false;
  auto deadline = store::parse_rfc3339(*expires_at);
  // Fail closed: a deadline we cannot read is not treated as "never".
  if (!deadline) return true;
  return std::chrono::system_clock::now() >= *deadline;
}

}  // namespace

std::string generate_token() {
  return std::string(kTokenPrefix) + base62_encode(random_bytes(kTokenEntropyBytes));
}

std::string hash_token(std::string_view plaintext) {
  return sha256_hex(plaintext);
}

std::string issue_pat(store::Store& store, const std::string& user_sub, const std::string& name,
                      std::optional<std::string> expires_at) {
  std::string token = generate_token();
  store::PersonalAccessToken pat;
  pat.id = uuid_v4();
  pat.user_sub = user_sub;
  pat.name = name;
  pat.token_hash = hash_token(token);
  pat.created_at = store::now_rfc3339();
  pat.expires_at = std::move(expires_at);
  store.create_pat(pat);
  return token;
}

Caller authenticate_token(store::Store& store, const std::string& token) {
  if (!token.starts_with(kTokenPrefix) || token.size() == kTokenPrefix.size()) {
    throw invalid_token();
  }
  auto pat = store.find_pat_by_hash(hash_token(token));
  if (!pat || pat->revoked || is_expired(pat->expires_at)) throw invalid_token();
  auto user = store.get_user(pat->user_sub);
  if (!user || !user->active) throw invalid_token();

  std::string now = store::now_rfc3339();
  // Second precision: skip the write when this second is already recorded.
  if (pat->last_used_at != now) {
    try {
      store.touch_pat(pat->id, now);
    } catch (const std::exception& e) {
      spdlog::warn("pat: could not record last use of token {}: {}", pat->id, e.what());
    }
  }
  Caller caller;
  caller.sub = user->sub;
  caller.name = user->name.empty() ? user->sub : user->name;
  caller.role = user->role;
  caller.credential = Credential::token;
  return caller;
}

std::string expiry_from_now(const std::string& expires_in) {
  auto bad = [&] {
    return ApiError::bad_request("invalid expires_in \"" + expires_in +
                                 "\": expected a number followed by d, h or m (e.g. 90d)");
  };
  if (expires_in.size() < 2) throw bad();
  std::string_view digits(expires_in.data(), expires_in.size() - 1);
  if (digits.find_first_not_of("0123456789") != std::string_view::npos) throw bad();
  long long amount = 0;
  auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), amount);
  if (ec != std::errc() || end != digits.data() + digits.size() || amount < 1) throw bad();

  using std::chrono::minutes;
  long long minutes_per_unit = 0;
  switch (expires_in.back()) {
    case 'd':
      minutes_per_unit = 24 * 60;
      break;
    case 'h':
      minutes_per_unit = 60;
      break;
    case 'm':
      minutes_per_unit = 1;
      break;
    default:
      throw bad();
  }
  constexpr long long kMaxMinutes = 100LL * 366 * 24 * 60;
  if (amount > kMaxMinutes / minutes_per_unit) throw bad();
  return store::format_rfc3339(std::chrono::system_clock::now() +
                               minutes(amount * minutes_per_unit));
}

}  // namespace blockyard::auth
