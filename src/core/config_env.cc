// BLOCKYARD_<SECTION>_<KEY> environment overrides. Unlike the original, a
// value that does not parse is an error naming the variable: a typo in a
// deployment manifest must not silently fall back to a default.
#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cmath>
#include <limits>

#include "core/config_schema.h"

namespace blockyard::config_detail {
namespace {

// Variables under a section prefix that are not config keys; they must not
// create the optional section on their own.
constexpr std::string_view kNonConfigVariables[] = {
    "BLOCKYARD_VAULT_SECRET_ID",  // AppRole secret_id, read at vault login
    "BLOCKYARD_VAULT_SERVICES",   // set for workers, not read by the server
};

std::string upper(std::string_view text) {
  std::string out(text);
  for (char& c : out) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return out;
}

std::string_view trim(std::string_view text) {
  const auto space = [](char c) { return std::isspace(static_cast<unsigned char>(c)) != 0; };
  while (!text.empty() && space(text.front())) text.remove_prefix(1);
  while (!text.empty() && space(text.back())) text.remove_suffix(1);
  return text;
}

std::vector<std::string_view> split(std::string_view text, char separator) {
  std::vector<std::string_view> parts;
  for (;;) {
    const auto at = text.find(separator);
    parts.push_back(text.substr(0, at));
    if (at == std::string_view::npos) return parts;
    text.remove_prefix(at + 1);
  }
}

[[noreturn]] void bad_value(const std::string& var, std::string_view expected,
                            std::string_view value) {
  throw ConfigError(fmt::format("config: {}: expected {}, got \"{}\"", var, expected, value));
}

void parse_env(std::string_view value, std::string& out, const std::string&) {
  out = value;
}

void parse_env(std::string_view value, bool& out, const std::string& var) {
  // Go's strconv.ParseBool set, which the original documents.
  static constexpr std::string_view kTrue[] = {"1", "t", "T", "TRUE", "true", "True"};
  static constexpr std::string_view kFalse[] = {"0", "f", "F", "FALSE", "false", "False"};
  if (std::find(std::begin(kTrue), std::end(kTrue), value) != std::end(kTrue)) {
    out = true;
  } else if (std::find(std::begin(kFalse), std::end(kFalse), value) != std::end(kFalse)) {
    out = false;
  } else {
    bad_value(var, "a boolean (true or false)", value);
  }
}

template <class Int>
void parse_integer(std::string_view value, Int& out, const std::string& var) {
  std::string_view digits = value;
  if (!digits.empty() && digits.front() == '+') digits.remove_prefix(1);  // Go accepts "+5"
  Int parsed{};
  auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), parsed, 10);
  if (digits.empty() || ec != std::errc{} || end != digits.data() + digits.size()) {
    bad_value(var, ec == std::errc::result_out_of_range ? "an integer in range" : "an integer",
              value);
  }
  out = parsed;
}

void parse_env(std::string_view value, int& out, const std::string& var) {
  parse_integer(value, out, var);
}

void parse_env(std::string_view value, std::int64_t& out, const std::string& var) {
  parse_integer(value, out, var);
}

void parse_env(std::string_view value, double& out, const std::string& var) {
  double parsed = 0;
  auto [end, ec] = std::from_chars(value.data(), value.data() + value.size(), parsed);
  if (value.empty() || ec != std::errc{} || end != value.data() + value.size() ||
      !std::isfinite(parsed)) {
    bad_value(var, "a number", value);
  }
  out = parsed;
}

void parse_env(std::string_view value, Duration& out, const std::string& var) {
  try {
    out = parse_duration(value);
  } catch (const std::invalid_argument&) {
    bad_value(var, "a duration such as \"30s\", \"5m\" or \"1h30m\"", value);
  }
}

void parse_env(std::string_view value, StringList& out, const std::string&) {
  out.clear();
  for (auto part : split(value, ',')) {
    if (auto item = trim(part); !item.empty()) out.emplace_back(item);
  }
}

// "a:b;c:d" -> {(a,b), (c,d)}, split on the first ':' so values may hold ':'.
std::vector<std::pair<std::string, std::string>> parse_pairs(std::string_view value,
                                                             const std::string& var,
                                                             std::string_view expected) {
  std::vector<std::pair<std::string, std::string>> pairs;
  for (auto part : split(value, ';')) {
    const auto entry = trim(part);
    if (entry.empty()) continue;
    const auto colon = entry.find(':');
    if (colon == std::string_view::npos || trim(entry.substr(0, colon)).empty()) {
      bad_value(var, expected, value);
    }
    pairs.emplace_back(trim(entry.substr(0, colon)), trim(entry.substr(colon + 1)));
  }
  return pairs;
}

void parse_env(std::string_view value, StringMap& out, const std::string& var) {
  out.clear();
  for (auto& [key, item] : parse_pairs(value, var, "key:value pairs separated by ';'")) {
    out[key] = item;
  }
}

void parse_env(std::string_view value, std::vector<DataMountConfig>& out, const std::string& var) {
  out.clear();
  for (auto& [name, path] : parse_pairs(value, var, "name:/path pairs separated by ';'")) {
    out.push_back(DataMountConfig{name, path});
  }
}

void parse_env(std::string_view, std::vector<VaultServiceConfig>&, const std::string& var) {
  throw ConfigError(fmt::format("config: {}: cannot be set from the environment", var));
}

template <class S>
void apply_fields(const Environment& env, S& section, const std::string& prefix,
                  std::vector<std::string>& warnings) {
  for (const Field<S>& field : schema(&section)) {
    if (!field.from_env) continue;
    const std::string var = prefix + upper(field.key);
    auto found = env.find(var);
    if (found == env.end() && prefix == "BLOCKYARD_VAULT_") {
      const std::string legacy = "BLOCKYARD_OPENBAO_" + upper(field.key);
      found = env.find(legacy);
      if (found != env.end()) {
        warnings.push_back(fmt::format("config: {} is deprecated; use {}", legacy, var));
      }
    }
    if (found == env.end()) continue;
    std::visit([&](auto member) { parse_env(found->second, section.*member, found->first); },
               field.member);
  }
}

bool names_section(const Environment& env, const std::string& prefix) {
  return std::any_of(env.begin(), env.end(), [&](const auto& entry) {
    const std::string& name = entry.first;
    return name.starts_with(prefix) &&
           std::find(std::begin(kNonConfigVariables), std::end(kNonConfigVariables), name) ==
               std::end(kNonConfigVariables);
  });
}

}  // namespace

void apply_environment(const Environment& env, Config& config) {
  for_each_section(config, [&](std::string_view name, auto& section) {
    const std::string prefix = "BLOCKYARD_" + upper(name) + "_";
    using T = std::remove_cvref_t<decltype(section)>;
    if constexpr (is_optional<T>::value) {
      const bool named = names_section(env, prefix) ||
                         (name == "vault" && names_section(env, "BLOCKYARD_OPENBAO_"));
      if (named && !section) section.emplace();
      if (section) apply_fields(env, *section, prefix, config.warnings);
    } else {
      apply_fields(env, section, prefix, config.warnings);
    }
  });
}

}  // namespace blockyard::config_detail
