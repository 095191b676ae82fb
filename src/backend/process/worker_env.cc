#include "backend/process/worker_env.h"

#include <algorithm>
#include <stdexcept>

namespace blockyard::backend::process {

namespace {

void check_entry(const std::string& name, const std::string& value) {
  if (name.empty() || name.find_first_of(std::string("=\0", 2)) != std::string::npos)
    throw std::invalid_argument("worker environment: invalid variable name \"" + name + "\"");
  if (value.find('\0') != std::string::npos)
    throw std::invalid_argument("worker environment: value of " + name + " contains NUL");
}

void set(EnvList& env, const std::string& name, const std::string& value) {
  check_entry(name, value);
  auto it = std::find_if(env.begin(), env.end(), [&](const auto& e) { return e.first == name; });
  if (it != env.end()) {
    it->second = value;
  } else {
    env.emplace_back(name, value);
  }
}

bool is_shiny_address(const std::string& name) {
  return name == "SHINY_HOST" || name == "SHINY_PORT";
}

}  // namespace

EnvList worker_environment(const std::map<std::string, std::string>& server_worker_env,
                           const std::map<std::string, std::string>& spawn_env, int port) {
  EnvList env;
  set(env, "PATH", "/usr/bin:/bin");
  set(env, "HOME", "/tmp");
  set(env, "TMPDIR", "/tmp");
  set(env, "LANG", "C.UTF-8");
  // Shiny takes a set SHINY_PORT to mean it runs under Shiny Server and warns
  // ("Shiny Server v0.3.4 or later is required") unless this says which one;
  // blockyard plays that role.
  set(env, "SHINY_SERVER_VERSION", kShinyServerVersion);
  for (const auto* extra : {&server_worker_env, &spawn_env})
    for (const auto& [name, value] : *extra)
      if (!is_shiny_address(name)) set(env, name, value);
  env.emplace_back("SHINY_HOST", "127.0.0.1");
  env.emplace_back("SHINY_PORT", std::to_string(port));
  return env;
}

EnvList build_environment(const std::map<std::string, std::string>& build_env) {
  EnvList env;
  set(env, "PATH", "/usr/bin:/usr/local/bin:/bin");
  set(env, "HOME", "/tmp");
  set(env, "TMPDIR", "/tmp");
  set(env, "LANG", "C.UTF-8");
  for (const auto& [name, value] : build_env) set(env, name, value);
  return env;
}

}  // namespace blockyard::backend::process
