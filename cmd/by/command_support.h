// Helpers shared by the `by` command implementations: connecting with the
// resolved credentials, API paths, stdout printing and tolerant JSON field
// access (servers may send null where a string is usual).
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

#include "api_client.h"

namespace blockyard::cli {

// An ApiClient for the credentials resolved from env and the config file.
// Throws CliError when none are configured.
ApiClient connect_from_config();

// "/api/v1/apps/<escaped app>" plus `suffix` (which must start with '/' or '?').
std::string app_path(const std::string& app, std::string_view suffix = "");

// Writes to stdout and flushes (so streamed output appears immediately).
void print_out(std::string_view text);

// Pretty-prints JSON to stdout.
void print_json(const nlohmann::json& value);

// Writes "Warning: <text>" to stderr.
void print_warning(const std::string& text);

// obj[key] as display text: strings as is, numbers/bools dumped, and
// `fallback` when missing, null or an empty string.
std::string field_text(const nlohmann::json& obj, const char* key,
                       const std::string& fallback = "");

// obj[key] as a bool (false when missing or not a bool).
bool field_bool(const nlohmann::json& obj, const char* key);

// The array obj[key], or obj itself when it is already an array, else [].
nlohmann::json array_field(const nlohmann::json& obj, const char* key);

// The full ID of the app's bundle whose ID is `id_or_prefix` or starts with
// it (`by bundles` shows 12 characters). Throws CliError when none or several
// match.
std::string resolve_bundle_id(ApiClient& client, const std::string& app,
                              const std::string& id_or_prefix);

}  // namespace blockyard::cli
