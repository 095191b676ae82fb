#include "core/app_name.h"

namespace blockyard {

namespace {

constexpr std::size_t kMaxLength = 63;

bool is_lower(char c) {
  return c >= 'a' && c <= 'z';
}

bool is_name_char(char c) {
  return is_lower(c) || (c >= '0' && c <= '9') || c == '-';
}

}  // namespace

std::optional<std::string> app_name_error(std::string_view name) {
  if (name.empty() || name.size() > kMaxLength) return "name must be 1-63 characters";
  for (char c : name) {
    if (!is_name_char(c)) return "name must contain only lowercase letters, digits, and hyphens";
  }
  if (!is_lower(name.front())) return "name must start with a lowercase letter";
  if (name.back() == '-') return "name must not end with a hyphen";
  return std::nullopt;
}

std::optional<std::string> suggest_app_name(std::string_view text) {
  std::string name;
  for (char c : text) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
    const bool keep = is_lower(c) || (c >= '0' && c <= '9');
    if (name.empty() && !is_lower(c)) continue;  // a name starts with a letter
    if (keep) {
      name += c;
    } else if (name.back() != '-') {
      name += '-';
    }
  }
  if (name.size() > kMaxLength) name.resize(kMaxLength);
  while (!name.empty() && name.back() == '-') name.pop_back();
  if (name.empty()) return std::nullopt;
  return name;
}

}  // namespace blockyard
