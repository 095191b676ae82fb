#include "api/app_validation.h"

#include <cctype>
#include <limits>
#include <sstream>

#include <fmt/format.h>

#include "core/error.h"

namespace blockyard::api {

std::optional<std::int64_t> parse_memory_limit(std::string_view text) {
  std::size_t digits = 0;
  while (digits < text.size() && std::isdigit(static_cast<unsigned char>(text[digits]))) {
    ++digits;
  }
  if (digits == 0) return std::nullopt;
  std::string suffix;
  for (char c : text.substr(digits)) {
    suffix.push_back(static_cast<char>(std::tolower(static_cast<unsigned char>(c))));
  }
  std::int64_t multiplier = 1;
  if (suffix == "k" || suffix == "kb") {
    multiplier = std::int64_t{1} << 10;
  } else if (suffix == "m" || suffix == "mb") {
    multiplier = std::int64_t{1} << 20;
  } else if (suffix == "g" || suffix == "gb") {
    multiplier = std::int64_t{1} << 30;
  } else if (!suffix.empty()) {
    return std::nullopt;
  }
  constexpr auto kMax = std::numeric_limits<std::int64_t>::max();
  std::int64_t value = 0;
  for (char c : text.substr(0, digits)) {
    int d = c - '0';
    if (value > (kMax - d) / 10) return std::nullopt;
    value = value * 10 + d;
  }
  if (value > kMax / multiplier) return std::nullopt;
  return value * multiplier;
}

namespace {

using nlohmann::json;

int integer_field(const json& value, const std::string& field) {
  if (!value.is_number_integer()) throw ApiError::bad_request(field + " must be an integer");
  auto n = value.get<std::int64_t>();
  if (n > std::numeric_limits<int>::max() || n < std::numeric_limits<int>::min()) {
    throw ApiError::bad_request(field + " is out of range");
  }
  return static_cast<int>(n);
}

std::string string_field(const json& value, const std::string& field) {
  if (!value.is_string()) throw ApiError::bad_request(field + " must be a string");
  return value.get<std::string>();
}

// A string that may be null or "" to clear it.
std::optional<std::string> clearable_string(const json& value, const std::string& field) {
  if (value.is_null()) return std::nullopt;
  std::string s = string_field(value, field);
  if (s.empty()) return std::nullopt;
  return s;
}

std::size_t count_fields(const std::string& text) {
  std::istringstream in(text);
  std::size_t n = 0;
  for (std::string word; in >> word;) ++n;
  return n;
}

}  // namespace

AppPatch parse_app_patch(const json& body, const Config& config) {
  if (!body.is_object()) throw ApiError::bad_request("invalid JSON body");
  if (body.contains("data_mounts")) {
    throw ApiError::not_implemented("data_mounts are not supported by this server yet");
  }
  AppPatch patch;
  if (auto it = body.find("name"); it != body.end()) {
    std::string name = string_field(*it, "name");
    if (auto error = app_name_error(name)) throw ApiError::bad_request(*error);
    patch.name = name;
  }
  if (auto it = body.find("title"); it != body.end())
    patch.settings.title = clearable_string(*it, "title");
  if (auto it = body.find("description"); it != body.end()) {
    patch.settings.description = clearable_string(*it, "description");
  }
  if (auto it = body.find("access_type"); it != body.end()) {
    std::string access = string_field(*it, "access_type");
    if (access != "acl" && access != "logged_in" && access != "public") {
      throw ApiError::bad_request("access_type must be one of: acl, logged_in, public");
    }
    patch.settings.access_type = access;
  }
  if (auto it = body.find("max_workers_per_app"); it != body.end()) {
    if (it->is_null()) {
      patch.settings.max_workers_per_app = std::optional<int>{};  // unlimited
    } else {
      int n = integer_field(*it, "max_workers_per_app");
      if (n < 1) throw ApiError::bad_request("max_workers_per_app must be >= 1");
      patch.settings.max_workers_per_app = n;
    }
  }
  if (auto it = body.find("max_sessions_per_worker"); it != body.end()) {
    int n = integer_field(*it, "max_sessions_per_worker");
    if (n < 1) throw ApiError::bad_request("max_sessions_per_worker must be >= 1");
    patch.settings.max_sessions_per_worker = n;
  }
  if (auto it = body.find("memory_limit"); it != body.end()) {
    auto limit = clearable_string(*it, "memory_limit");
    if (limit && !parse_memory_limit(*limit)) {
      throw ApiError::bad_request(R"(invalid memory_limit format: use e.g. "256m", "1g", "512mb")");
    }
    patch.settings.memory_limit = limit;
  }
  if (auto it = body.find("cpu_limit"); it != body.end()) {
    if (it->is_null()) {
      patch.settings.cpu_limit = std::optional<double>{};
    } else {
      if (!it->is_number()) throw ApiError::bad_request("cpu_limit must be a number");
      double cpu = it->get<double>();
      if (cpu < 0) throw ApiError::bad_request("cpu_limit must be >= 0");
      double max = config.proxy.max_cpu_limit;
      if (max > 0 && cpu > max) {
        throw ApiError::bad_request(fmt::format("cpu_limit must not exceed {:.1f}", max));
      }
      // 0 means "no limit", which the store represents as null.
      patch.settings.cpu_limit = cpu > 0 ? std::optional<double>(cpu) : std::nullopt;
    }
  }
  if (auto it = body.find("pre_warmed_sessions"); it != body.end()) {
    int n = integer_field(*it, "pre_warmed_sessions");
    if (n < 0 || n > 10) {
      throw ApiError::bad_request("pre_warmed_sessions must be between 0 and 10");
    }
    patch.settings.pre_warmed_sessions = n;
  }
  if (auto it = body.find("refresh_schedule"); it != body.end()) {
    std::string schedule = it->is_null() ? "" : string_field(*it, "refresh_schedule");
    if (!schedule.empty() && count_fields(schedule) != 5) {
      throw ApiError::bad_request("invalid refresh_schedule cron expression");
    }
    // Storing a schedule that nothing runs would mislead the operator.
    if (!schedule.empty()) {
      throw ApiError::not_implemented("scheduled dependency refresh is not supported yet");
    }
    patch.settings.refresh_schedule = schedule;
  }
  if (auto it = body.find("image"); it != body.end()) {
    std::string image = it->is_null() ? "" : string_field(*it, "image");
    if (image.find_first_of(" \t\r\n") != std::string::npos) {
      throw ApiError::bad_request("image must not contain whitespace");
    }
    patch.settings.image = image;
  }
  if (auto it = body.find("runtime"); it != body.end()) {
    patch.settings.runtime = it->is_null() ? "" : string_field(*it, "runtime");
  }
  return patch;
}

}  // namespace blockyard::api
