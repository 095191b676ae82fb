// Credentials for the `by` CLI: the config file and its environment overrides.
//
// The file lives at $XDG_CONFIG_HOME/by/config.json, else ~/.config/by/config.json,
// and holds {"server": "<url>", "token": "<token>"}. BLOCKYARD_URL and
// BLOCKYARD_TOKEN override the file one value at a time. Every failure throws
// CliError with the message the user sees. Functions are stateless and
// thread-compatible; the environment is read through an injectable lookup so
// tests need not touch the process environment.
#pragma once

#include <filesystem>
#include <functional>
#include <optional>
#include <string>

namespace blockyard::cli {

struct Credentials {
  std::string server;  // base URL, no trailing '/'
  std::string token;
};

// Returns the value of an environment variable, or nullopt when unset or empty.
using EnvLookup = std::function<std::optional<std::string>(const std::string& name)>;

// Reads the real process environment.
EnvLookup process_env();

// Directory holding config.json. Throws CliError when neither XDG_CONFIG_HOME
// nor HOME is set.
std::filesystem::path config_dir(const EnvLookup& env);

// Path of config.json inside config_dir(env).
std::filesystem::path config_path(const EnvLookup& env);

// Reads `path`. A missing file yields empty credentials; a malformed one throws
// CliError("load config: parse config: ...").
Credentials load_config_file(const std::filesystem::path& path);

// Writes `creds` to `path` atomically (temp file + rename), file mode 0600; the
// parent directory is created if needed and set to mode 0700. Throws CliError.
void save_config_file(const std::filesystem::path& path, const Credentials& creds);

// Resolves the credentials a command uses: env values first, the file fills
// whatever env leaves unset (the file is not read when env supplies both).
// Throws CliError naming the missing value and how to supply it.
Credentials resolve_credentials(const EnvLookup& env);

// Strips trailing '/' from a server URL.
std::string normalize_server_url(std::string url);

}  // namespace blockyard::cli
