#include "command_support.h"

#include <cstdio>

#include "lib/cli_error.h"
#include "lib/config_file.h"
#include "lib/output.h"
#include "lib/text.h"

namespace blockyard::cli {

ApiClient connect_from_config() {
  return ApiClient(resolve_credentials(process_env()));
}

std::string app_path(const std::string& app, std::string_view suffix) {
  return "/api/v1/apps/" + url_escape(app) + std::string(suffix);
}

void print_out(std::string_view text) {
  std::fwrite(text.data(), 1, text.size(), stdout);
  std::fflush(stdout);
}

void print_json(const nlohmann::json& value) {
  print_out(pretty_json(value));
}

void print_warning(const std::string& text) {
  std::fprintf(stderr, "Warning: %s\n", text.c_str());
}

std::string field_text(const nlohmann::json& obj, const char* key, const std::string& fallback) {
  if (!obj.is_object()) return fallback;
  auto it = obj.find(key);
  if (it == obj.end() || it->is_null()) return fallback;
  if (it->is_string()) {
    const auto& s = it->get_ref<const std::string&>();
    return s.empty() ? fallback : s;
  }
  return it->dump();
}

bool field_bool(const nlohmann::json& obj, const char* key) {
  if (!obj.is_object()) return false;
  auto it = obj.find(key);
  return it != obj.end() && it->is_boolean() && it->get<bool>();
}

nlohmann::json array_field(const nlohmann::json& obj, const char* key) {
  if (obj.is_array()) return obj;
  if (obj.is_object()) {
    auto it = obj.find(key);
    if (it != obj.end() && it->is_array()) return *it;
  }
  return nlohmann::json::array();
}

std::string resolve_bundle_id(ApiClient& client, const std::string& app,
                              const std::string& id_or_prefix) {
  const auto bundles = array_field(expect_json(client.get(app_path(app, "/bundles"))), "bundles");
  std::vector<std::string> matches;
  for (const auto& b : bundles) {
    const std::string id = field_text(b, "id");
    if (id == id_or_prefix) return id;
    if (!id_or_prefix.empty() && id.starts_with(id_or_prefix)) matches.push_back(id);
  }
  if (matches.size() == 1) return matches.front();
  if (matches.empty()) throw CliError("no bundle " + id_or_prefix + " in app " + app);
  throw CliError("bundle prefix " + id_or_prefix + " matches " + std::to_string(matches.size()) +
                 " bundles of " + app + "; give more characters");
}

}  // namespace blockyard::cli
