// App names: the rules every app name follows (also in URLs: /app/<name>/),
// and a valid name made from text that breaks them, such as a directory
// called "01_hello". Pure functions; thread safe.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace blockyard {

// Message of the first rule `name` breaks, nullopt when valid: 1-63 bytes
// of a-z, 0-9 and '-', starting with a letter, not ending in '-'.
std::optional<std::string> app_name_error(std::string_view name);

// A valid name close to `text`: lower-cased, every run of other characters
// turned into one '-', anything before the first letter dropped, cut to 63
// bytes without a trailing '-'. nullopt when `text` holds no ASCII letter.
// "01_hello" -> "hello", "Sales Dashboard (v2)" -> "sales-dashboard-v2".
std::optional<std::string> suggest_app_name(std::string_view text);

}  // namespace blockyard
