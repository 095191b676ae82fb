#include "lib/text.h"

#include <algorithm>
#include <cctype>
#include <cstdio>

namespace blockyard::cli {
namespace {

bool is_continuation_byte(char c) {
  return (static_cast<unsigned char>(c) & 0xC0) == 0x80;
}

// Byte offset where code point number `n` starts (s.size() if fewer).
size_t offset_of_code_point(std::string_view s, size_t n) {
  size_t seen = 0;
  for (size_t i = 0; i < s.size(); ++i) {
    if (is_continuation_byte(s[i])) continue;
    if (seen == n) return i;
    ++seen;
  }
  return s.size();
}

std::string_view trim(std::string_view s) {
  const auto blank = [](char c) { return std::isspace(static_cast<unsigned char>(c)) != 0; };
  while (!s.empty() && blank(s.front())) s.remove_prefix(1);
  while (!s.empty() && blank(s.back())) s.remove_suffix(1);
  return s;
}

}  // namespace

size_t display_width(std::string_view s) {
  return static_cast<size_t>(
      std::count_if(s.begin(), s.end(), [](char c) { return !is_continuation_byte(c); }));
}

std::string truncate_text(std::string_view s, size_t max_width) {
  if (display_width(s) <= max_width) return std::string(s);
  if (max_width <= 3) return std::string(s.substr(0, offset_of_code_point(s, max_width)));
  return std::string(s.substr(0, offset_of_code_point(s, max_width - 3))) + "...";
}

std::string short_id(std::string_view id, size_t n) {
  return std::string(id.substr(0, offset_of_code_point(id, n)));
}

std::string format_bytes(uint64_t bytes) {
  constexpr uint64_t kMiB = 1024 * 1024;
  constexpr uint64_t kGiB = 1024 * kMiB;
  char buf[64];
  if (bytes >= kGiB) {
    std::snprintf(buf, sizeof buf, "%.1f GiB",
                  static_cast<double>(bytes) / static_cast<double>(kGiB));
  } else if (bytes >= kMiB) {
    std::snprintf(buf, sizeof buf, "%llu MiB", static_cast<unsigned long long>(bytes / kMiB));
  } else {
    std::snprintf(buf, sizeof buf, "%llu B", static_cast<unsigned long long>(bytes));
  }
  return buf;
}

std::string url_escape(std::string_view s) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  out.reserve(s.size());
  for (char c : s) {
    const auto u = static_cast<unsigned char>(c);
    if (std::isalnum(u) || c == '-' || c == '.' || c == '_' || c == '~') {
      out += c;
    } else {
      out += '%';
      out += kHex[u >> 4];
      out += kHex[u & 0x0F];
    }
  }
  return out;
}

std::string url_host(std::string_view url) {
  const size_t scheme_end = url.find("://");
  if (scheme_end == std::string_view::npos) return std::string(url);
  std::string_view rest = url.substr(scheme_end + 3);
  rest = rest.substr(0, rest.find_first_of("/?#"));
  if (const size_t at = rest.rfind('@'); at != std::string_view::npos) rest.remove_prefix(at + 1);
  return std::string(rest);
}

bool has_http_scheme(std::string_view url) {
  return url.starts_with("http://") || url.starts_with("https://");
}

std::optional<long> semver_major(std::string_view version) {
  if (version.starts_with('v')) version.remove_prefix(1);
  const size_t dot = version.find('.');
  if (dot == 0 || dot == std::string_view::npos) return std::nullopt;
  long major = 0;
  for (char c : version.substr(0, dot)) {
    if (!std::isdigit(static_cast<unsigned char>(c))) return std::nullopt;
    major = major * 10 + (c - '0');
  }
  return major;
}

std::optional<std::string> version_mismatch_warning(std::string_view cli_version,
                                                    std::string_view server_version) {
  const auto cli_major = semver_major(cli_version);
  const auto server_major = semver_major(server_version);
  if (!cli_major || !server_major || *cli_major == *server_major) return std::nullopt;
  return "Warning: by " + std::string(cli_version) + " may be incompatible with server " +
         std::string(server_version) + " (major version mismatch)";
}

bool accepts_default_yes(std::string_view answer) {
  std::string lowered(trim(answer));
  std::transform(lowered.begin(), lowered.end(), lowered.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return lowered.empty() || lowered == "y" || lowered == "yes";
}

std::string last_nonblank_line(std::string_view text) {
  while (!text.empty()) {
    const size_t nl = text.rfind('\n');
    const std::string_view line = nl == std::string_view::npos ? text : text.substr(nl + 1);
    if (!trim(line).empty()) {
      std::string_view out = line;
      if (out.ends_with('\r')) out.remove_suffix(1);
      return std::string(out);
    }
    if (nl == std::string_view::npos) break;
    text = text.substr(0, nl);
  }
  return {};
}

}  // namespace blockyard::cli
