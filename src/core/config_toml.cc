// Reading the TOML config file into Config. Every key must be known and
// typed as the schema says; errors name the key and the line.
#include <fmt/format.h>

#include <toml++/toml.h>
#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstring>
#include <fstream>
#include <limits>
#include <sstream>

#include "core/config_schema.h"

namespace blockyard::config_detail {
namespace {

std::string_view type_name(toml::node_type type) {
  switch (type) {
    case toml::node_type::string:
      return "a string";
    case toml::node_type::integer:
      return "an integer";
    case toml::node_type::floating_point:
      return "a float";
    case toml::node_type::boolean:
      return "a boolean";
    case toml::node_type::table:
      return "a table";
    case toml::node_type::array:
      return "an array";
    case toml::node_type::date:
      return "a date";
    case toml::node_type::time:
      return "a time";
    case toml::node_type::date_time:
      return "a date-time";
    default:
      return "nothing";
  }
}

std::string where(const toml::node& node) {
  const auto line = node.source().begin.line;
  return line > 0 ? fmt::format(" (line {})", line) : std::string();
}

[[noreturn]] void type_error(const toml::node& node, const std::string& key,
                             std::string_view expected) {
  throw ConfigError(fmt::format("config: {}: expected {}, got {}{}", key, expected,
                                type_name(node.type()), where(node)));
}

[[noreturn]] void unknown_key(const toml::node& node, const std::string& key) {
  throw ConfigError(fmt::format("config: unknown key {}{}", key, where(node)));
}

void read_value(const toml::node& node, std::string& out, const std::string& key) {
  const auto* value = node.as_string();
  if (!value) type_error(node, key, "a string");
  out = value->get();
}

void read_value(const toml::node& node, bool& out, const std::string& key) {
  const auto* value = node.as_boolean();
  if (!value) type_error(node, key, "a boolean");
  out = value->get();
}

void read_value(const toml::node& node, std::int64_t& out, const std::string& key) {
  const auto* value = node.as_integer();
  if (!value) type_error(node, key, "an integer");
  out = value->get();
}

void read_value(const toml::node& node, int& out, const std::string& key) {
  std::int64_t wide = 0;
  read_value(node, wide, key);
  if (wide < std::numeric_limits<int>::min() || wide > std::numeric_limits<int>::max()) {
    throw ConfigError(fmt::format("config: {}: {} is out of range{}", key, wide, where(node)));
  }
  out = static_cast<int>(wide);
}

void read_value(const toml::node& node, double& out, const std::string& key) {
  // `cpu_limit = 2` is as natural as `2.0`; take both.
  if (const auto* integer = node.as_integer()) {
    out = static_cast<double>(integer->get());
    return;
  }
  const auto* value = node.as_floating_point();
  if (!value) type_error(node, key, "a number");
  if (!std::isfinite(value->get())) {
    throw ConfigError(fmt::format("config: {}: must be a finite number{}", key, where(node)));
  }
  out = value->get();
}

void read_value(const toml::node& node, Duration& out, const std::string& key) {
  const auto* value = node.as_string();
  if (!value) type_error(node, key, "a duration string such as \"30s\"");
  try {
    out = parse_duration(value->get());
  } catch (const std::invalid_argument& e) {
    throw ConfigError(fmt::format("config: {}: {}{}", key, e.what(), where(node)));
  }
}

void read_value(const toml::node& node, StringList& out, const std::string& key) {
  const auto* array = node.as_array();
  if (!array) type_error(node, key, "an array of strings");
  out.clear();
  for (std::size_t i = 0; i < array->size(); ++i) {
    read_value((*array)[i], out.emplace_back(), fmt::format("{}[{}]", key, i));
  }
}

void read_value(const toml::node& node, StringMap& out, const std::string& key) {
  const auto* table = node.as_table();
  if (!table) type_error(node, key, "a table of strings");
  out.clear();
  for (auto&& [name, value] : *table) {
    const std::string name_text(name.str());
    read_value(value, out[name_text], key + "." + name_text);
  }
}

// Reads an array of tables whose keys are all strings, e.g. [[storage.data_mounts]].
template <class Item>
void read_table_array(const toml::node& node, std::vector<Item>& out, const std::string& key,
                      const std::vector<std::pair<std::string_view, std::string Item::*>>& keys) {
  const auto* array = node.as_array();
  if (!array) type_error(node, key, "an array of tables");
  out.clear();
  for (std::size_t i = 0; i < array->size(); ++i) {
    const std::string item_key = fmt::format("{}[{}]", key, i);
    const auto* table = (*array)[i].as_table();
    if (!table) type_error((*array)[i], item_key, "a table");
    Item& item = out.emplace_back();
    for (auto&& [name, value] : *table) {
      auto match = std::find_if(keys.begin(), keys.end(),
                                [&](const auto& entry) { return entry.first == name.str(); });
      const std::string field_key = item_key + "." + std::string(name.str());
      if (match == keys.end()) unknown_key(value, field_key);
      read_value(value, item.*(match->second), field_key);
    }
  }
}

void read_value(const toml::node& node, std::vector<DataMountConfig>& out, const std::string& key) {
  read_table_array<DataMountConfig>(
      node, out, key, {{"name", &DataMountConfig::name}, {"path", &DataMountConfig::path}});
}

void read_value(const toml::node& node, std::vector<VaultServiceConfig>& out,
                const std::string& key) {
  read_table_array<VaultServiceConfig>(
      node, out, key, {{"id", &VaultServiceConfig::id}, {"label", &VaultServiceConfig::label}});
}

template <class S>
void read_section(const toml::table& table, S& section, std::string_view name) {
  const auto& fields = schema(&section);
  for (auto&& [key, node] : table) {
    const std::string path = std::string(name) + "." + std::string(key.str());
    auto field = std::find_if(fields.begin(), fields.end(),
                              [&](const Field<S>& f) { return f.key == key.str(); });
    if (field == fields.end()) unknown_key(node, path);
    std::visit([&](auto member) { read_value(node, section.*member, path); }, field->member);
  }
}

// Moves a deprecated key to its new place unless the new key is set.
void migrate_key(toml::table& root, std::string_view old_section, std::string_view old_key,
                 std::string_view new_section, std::string_view new_key,
                 std::vector<std::string>& warnings) {
  auto* from = root[old_section].as_table();
  if (!from || !from->contains(old_key)) return;
  const std::string old_path = fmt::format("{}.{}", old_section, old_key);
  const std::string new_path = fmt::format("{}.{}", new_section, new_key);
  if (!root.contains(new_section)) root.insert(new_section, toml::table{});
  auto* to = root[new_section].as_table();
  if (to && !to->contains(new_key)) {
    to->insert(new_key, *from->get(old_key));
    warnings.push_back(fmt::format("config: {} is deprecated; use {}", old_path, new_path));
  } else {
    warnings.push_back(
        fmt::format("config: {} is deprecated and ignored because {} is set", old_path, new_path));
  }
  from->erase(old_key);
}

// The original's renamed and removed keys, so its config files keep loading.
void migrate_deprecated(toml::table& root, std::vector<std::string>& warnings) {
  if (root.contains("openbao")) {
    if (!root.contains("vault")) {
      root.insert("vault", *root.get("openbao"));
      warnings.push_back("config: [openbao] is deprecated; rename it to [vault]");
    } else {
      warnings.push_back("config: [openbao] is deprecated and ignored because [vault] is set");
    }
    root.erase("openbao");
  }
  migrate_key(root, "server", "skip_docker_preflight", "server", "skip_preflight", warnings);
  migrate_key(root, "docker", "default_memory_limit", "server", "default_memory_limit", warnings);
  migrate_key(root, "docker", "default_cpu_limit", "server", "default_cpu_limit", warnings);
  migrate_key(root, "docker", "store_retention", "storage", "store_retention", warnings);
  if (auto* vault = root["vault"].as_table(); vault && vault->contains("token_file")) {
    vault->erase("token_file");
    warnings.push_back(
        "config: vault.token_file was removed and is ignored; use vault.role_id with "
        "vault.secret_id_file");
  }
}

std::string read_file(const std::filesystem::path& path) {
  auto fail = [&](const std::string& reason) {
    return ConfigError(fmt::format("config: read config file \"{}\": {}", path.string(), reason));
  };
  std::error_code ec;
  if (std::filesystem::is_directory(path, ec)) throw fail("is a directory");
  errno = 0;
  std::ifstream in(path, std::ios::binary);
  if (!in) throw fail(errno ? std::strerror(errno) : "cannot open");
  std::ostringstream text;
  text << in.rdbuf();
  if (in.bad()) throw fail(errno ? std::strerror(errno) : "read error");
  return text.str();
}

}  // namespace

void apply_toml_file(const std::filesystem::path& path, Config& config) {
  const std::string text = read_file(path);
  toml::table root;
  try {
    root = toml::parse(text, path.string());
  } catch (const toml::parse_error& e) {
    throw ConfigError(fmt::format("config: parse config \"{}\": line {}, column {}: {}",
                                  path.string(), e.source().begin.line, e.source().begin.column,
                                  e.description()));
  }
  migrate_deprecated(root, config.warnings);

  std::vector<std::string_view> sections;
  for_each_section(config, [&](std::string_view name, auto&) { sections.push_back(name); });
  for (auto&& [key, node] : root) {
    if (std::find(sections.begin(), sections.end(), key.str()) == sections.end()) {
      if (node.is_table()) {
        throw ConfigError(fmt::format("config: unknown section [{}]{}", key.str(), where(node)));
      }
      unknown_key(node, std::string(key.str()));
    }
    if (!node.is_table()) type_error(node, std::string(key.str()), "a table");
  }

  for_each_section(config, [&](std::string_view name, auto& section) {
    const auto* table = root[name].as_table();
    if (!table) return;
    using T = std::remove_cvref_t<decltype(section)>;
    if constexpr (is_optional<T>::value) {
      if (!section) section.emplace();
      read_section(*table, *section, name);
    } else {
      read_section(*table, section, name);
    }
  });
}

}  // namespace blockyard::config_detail
