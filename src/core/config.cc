// load_config(): defaults, then the TOML file, then the environment, then
// validation. The pieces live in config_toml.cc, config_env.cc and
// config_validate.cc; the key table in config_schema.h.
#include "core/config.h"

#include <unistd.h>

#include "core/config_schema.h"

extern char** environ;

namespace blockyard {

Environment current_environment() {
  Environment env;
  for (char** entry = environ; entry && *entry; ++entry) {
    const std::string_view text(*entry);
    const auto equals = text.find('=');
    if (equals == std::string_view::npos) continue;
    env.emplace(std::string(text.substr(0, equals)), std::string(text.substr(equals + 1)));
  }
  return env;
}

Config load_config(const std::filesystem::path& path, const Environment& env) {
  Config config;
  if (!path.empty()) config_detail::apply_toml_file(path, config);
  config_detail::apply_environment(env, config);

  // The process backend always has its section: the defaults suit a host
  // without any [process] table.
  if (config.server.backend == "process" && !config.process) config.process.emplace();
  // Keys are "<prefix><name>"; the original appends the separator too.
  if (config.redis && !config.redis->key_prefix.empty() &&
      !config.redis->key_prefix.ends_with(':')) {
    config.redis->key_prefix += ':';
  }
  config_detail::validate_config(config);
  return config;
}

}  // namespace blockyard
