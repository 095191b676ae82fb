// ensure_local_admin: the credential an OIDC-less server hands its operator.
#include <sys/stat.h>

#include <cctype>
#include <fstream>
#include <optional>

#include <spdlog/spdlog.h>

#include "auth/pat.h"
#include "auth/private_file.h"
#include "core/error.h"

namespace blockyard::auth {
namespace {

constexpr const char* kAdminSub = "admin";
constexpr const char* kAdminName = "Local admin";
constexpr const char* kTokenName = "local-admin";

void ensure_admin_user(store::Store& store) {
  auto existing = store.get_user(kAdminSub);
  if (existing && existing->role == "admin" && existing->active) return;
  store::User user = existing.value_or(store::User{});
  user.sub = kAdminSub;
  if (user.name.empty()) user.name = kAdminName;
  user.role = "admin";
  user.active = true;
  store.upsert_user(user);
}

struct TokenFile {
  std::string token;
  bool exposed = false;  // group/other may read it, or it is not a plain file
};

std::optional<TokenFile> read_token_file(const std::filesystem::path& path) {
  struct stat info {};
  if (::lstat(path.c_str(), &info) != 0) return std::nullopt;
  TokenFile file;
  file.exposed = !S_ISREG(info.st_mode) || (info.st_mode & 077) != 0;
  std::ifstream in(path);
  std::getline(in, file.token);
  while (!file.token.empty() && std::isspace(static_cast<unsigned char>(file.token.back()))) {
    file.token.pop_back();
  }
  return file;
}

bool authenticates_as_admin(store::Store& store, const std::string& token) {
  try {
    Caller caller = authenticate_token(store, token);
    return caller.sub == kAdminSub && caller.role == "admin";
  } catch (const ApiError&) {
    return false;
  }
}

// Revokes `token` if it is a live PAT of the admin (best effort).
void revoke_if_admin_token(store::Store& store, const std::string& token) {
  auto pat = store.find_pat_by_hash(hash_token(token));
  if (pat && pat->user_sub == kAdminSub && !pat->revoked) store.revoke_pat(kAdminSub, pat->id);
}

}  // namespace

bool ensure_local_admin(store::Store& store, const std::filesystem::path& token_file) {
  ensure_admin_user(store);

  if (auto existing = read_token_file(token_file)) {
    if (existing->exposed) {
      spdlog::warn("local admin token file {} is readable by others; revoking and replacing it",
                   token_file.string());
      if (!existing->token.empty()) revoke_if_admin_token(store, existing->token);
    } else if (authenticates_as_admin(store, existing->token)) {
      return false;
    }
  }

  std::string token = issue_pat(store, kAdminSub, kTokenName, std::nullopt);
  try {
    write_private_file(token_file, token + "\n");
  } catch (...) {
    // Nobody can ever read this token: do not leave it valid.
    revoke_if_admin_token(store, token);
    throw;
  }
  return true;
}

}  // namespace blockyard::auth
