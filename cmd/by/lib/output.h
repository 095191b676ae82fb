// Rendering of `by` output: tables, key/value blocks and error reports, in
// the formats the CLI promises (see api-cli-config.md §3.1). Pure functions
// returning strings; callers decide where they go.
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <utility>
#include <vector>

namespace blockyard::cli {

// Left-aligned columns separated by at least two spaces; the header row is
// upper-cased. Rows shorter than the header are padded with empty cells; the
// last column carries no trailing padding. Every line ends in '\n'.
std::string format_table(const std::vector<std::string>& headers,
                         const std::vector<std::vector<std::string>>& rows);

// Two-space indented "Key:" lines with the values aligned in one column.
std::string format_key_values(const std::vector<std::pair<std::string, std::string>>& pairs);

// Human error line: "Error: <message>\n" (for stderr).
std::string render_error_human(const std::string& message);

// JSON error object (2-space indented, trailing newline, for stdout):
// {"error":"error","message":<message>} plus any fields of `details` (an object)
// that do not collide with those two.
std::string render_error_json(const std::string& message,
                              const nlohmann::json& details = nlohmann::json::object());

// The message of a failed API response: the server's JSON "message" (or
// "error" when that is all there is), else "HTTP <status>: <body>".
std::string api_error_message(long status, const std::string& body);

// JSON pretty-printed the way the CLI prints passthrough output (indent 2, '\n').
std::string pretty_json(const nlohmann::json& value);

}  // namespace blockyard::cli
