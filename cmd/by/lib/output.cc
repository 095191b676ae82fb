#include "lib/output.h"

#include <algorithm>
#include <cctype>

#include "lib/text.h"

namespace blockyard::cli {
namespace {

constexpr size_t kColumnGap = 2;

std::string upper(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(),
                 [](unsigned char c) { return static_cast<char>(std::toupper(c)); });
  return s;
}

std::string trim_right(std::string s) {
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.pop_back();
  return s;
}

void append_padded(std::string& out, const std::string& cell, size_t width) {
  out += cell;
  out.append(width - display_width(cell), ' ');
}

}  // namespace

std::string format_table(const std::vector<std::string>& headers,
                         const std::vector<std::vector<std::string>>& rows) {
  std::vector<std::vector<std::string>> lines;
  lines.reserve(rows.size() + 1);
  std::vector<std::string> header_line;
  for (const auto& h : headers) header_line.push_back(upper(h));
  lines.push_back(std::move(header_line));
  for (const auto& row : rows) {
    std::vector<std::string> line(row.begin(), row.begin() + std::min(row.size(), headers.size()));
    line.resize(headers.size());
    lines.push_back(std::move(line));
  }

  std::vector<size_t> widths(headers.size(), 0);
  for (const auto& line : lines) {
    for (size_t c = 0; c < line.size(); ++c)
      widths[c] = std::max(widths[c], display_width(line[c]));
  }

  std::string out;
  for (const auto& line : lines) {
    std::string text;
    for (size_t c = 0; c < line.size(); ++c) {
      if (c + 1 == line.size()) {
        text += line[c];
      } else {
        append_padded(text, line[c], widths[c] + kColumnGap);
      }
    }
    out += trim_right(std::move(text));
    out += '\n';
  }
  return out;
}

std::string format_key_values(const std::vector<std::pair<std::string, std::string>>& pairs) {
  size_t key_width = 0;
  for (const auto& [key, value] : pairs) key_width = std::max(key_width, display_width(key) + 1);
  std::string out;
  for (const auto& [key, value] : pairs) {
    std::string line = "  ";
    append_padded(line, key + ":", key_width + kColumnGap);
    line += value;
    out += trim_right(std::move(line));
    out += '\n';
  }
  return out;
}

std::string render_error_human(const std::string& message) {
  return "Error: " + message + "\n";
}

std::string render_error_json(const std::string& message, const nlohmann::json& details) {
  nlohmann::json doc = {{"error", "error"}, {"message", message}};
  if (details.is_object()) {
    for (const auto& [key, value] : details.items()) {
      if (!doc.contains(key)) doc[key] = value;
    }
  }
  return pretty_json(doc);
}

std::string api_error_message(long status, const std::string& body) {
  const auto doc = nlohmann::json::parse(body, nullptr, /*allow_exceptions=*/false);
  if (doc.is_object()) {
    for (const char* key : {"message", "error"}) {
      auto it = doc.find(key);
      if (it != doc.end() && it->is_string() && !it->get<std::string>().empty()) {
        return it->get<std::string>();
      }
    }
  }
  std::string text = trim_right(body);
  if (text.empty()) return "HTTP " + std::to_string(status);
  return "HTTP " + std::to_string(status) + ": " + text;
}

std::string pretty_json(const nlohmann::json& value) {
  return value.dump(2, ' ', false, nlohmann::json::error_handler_t::replace) + "\n";
}

}  // namespace blockyard::cli
