// Personal access tokens (PATs) and the local admin credential.
//
// A PAT is "by_" + base62(32 random bytes). Only its SHA-256 (hex) is stored;
// the plaintext exists once, in the return value of issue_pat (and, for the
// local admin, in the 0600 token file).
//
// Thread safety: every function is safe to call concurrently (the Store is).
// Failure: authentication failures throw ApiError::unauthorized, bad input
// ApiError::bad_request; database and filesystem errors propagate as
// std::runtime_error (std::system_error for files).
#pragma once

#include <filesystem>
#include <optional>
#include <string>
#include <string_view>

#include "auth/caller.h"
#include "store/store.h"

namespace blockyard::auth {

inline constexpr std::string_view kTokenPrefix = "by_";

// A fresh random token: "by_" + base62 of 32 CSPRNG bytes (~46 characters).
std::string generate_token();

// Lower-case hex SHA-256 of the whole plaintext (prefix included); this is
// what the store keeps in personal_access_tokens.token_hash.
std::string hash_token(std::string_view plaintext);

// Creates a PAT row for `user_sub` named `name`, expiring at `expires_at`
// (RFC 3339, nullopt = never), and returns the plaintext: the only time it
// exists. Throws store::StoreError (not_found) if the user does not exist.
std::string issue_pat(store::Store& store, const std::string& user_sub, const std::string& name,
                      std::optional<std::string> expires_at);

// Authenticates the plaintext from "Authorization: Bearer <token>". The token
// must start with "by_" and belong to a PAT that is not revoked, not expired
// (an unparseable expiry counts as expired) and whose user exists and is
// active; otherwise throws ApiError::unauthorized("invalid or expired
// token"). Records last_used_at (a failure to record it is logged, not
// fatal). Returns the user's current role, so role changes and deactivation
// take effect on the next request.
Caller authenticate_token(store::Store& store, const std::string& token);

// Local admin for servers without OIDC. Ensures the user sub "admin" exists
// with role admin and active (restoring them if changed: it is the server's
// only way in), and that `token_file` holds a valid admin PAT.
// If the file exists, is private (no group/other permission bits, a regular
// file) and its token authenticates as that admin, it is kept: returns false.
// Otherwise mints a PAT named "local-admin", writes it as one line ("by_...\n")
// through a 0600 temp file created with O_EXCL and renamed over the target
// (missing parent directories are created 0700), and returns true. A token
// found in a group/world-readable file is revoked before the new one is
// written, since it may have leaked.
bool ensure_local_admin(store::Store& store, const std::filesystem::path& token_file);

// Parses "<n>d", "<n>h" or "<n>m" (days, hours, minutes; n >= 1, at most 100
// years) and returns now + that duration as an RFC 3339 timestamp. Throws
// ApiError::bad_request for anything else.
std::string expiry_from_now(const std::string& expires_in);

}  // namespace blockyard::auth
