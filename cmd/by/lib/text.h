// Small pure text helpers for the `by` CLI: value formatting, URL pieces,
// version comparison, prompt answers. No I/O; safe from any thread.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace blockyard::cli {

// Number of UTF-8 code points in `s` (what a terminal column count needs).
size_t display_width(std::string_view s);

// `s` cut to at most `max_width` code points; a cut string ends in "...".
std::string truncate_text(std::string_view s, size_t max_width);

// First `n` code points of an ID (IDs are ASCII; used for 12-char short IDs).
std::string short_id(std::string_view id, size_t n = 12);

// "512 B", "300 MiB", "1.5 GiB".
std::string format_bytes(uint64_t bytes);

// Percent-encodes everything except RFC 3986 unreserved characters, so the
// result is safe as one path segment or one query value.
std::string url_escape(std::string_view s);

// Host (with port) of "scheme://host[:port]/path"; the input when it has no scheme.
std::string url_host(std::string_view url);

// True when `url` starts with http:// or https://.
bool has_http_scheme(std::string_view url);

// Major version of a semver string ("v1.2.3" -> 1), nullopt if not semver-like.
std::optional<long> semver_major(std::string_view version);

// Warning text when the server's major version differs from the CLI's, else nullopt
// (also nullopt when either version is not semver-like).
std::optional<std::string> version_mismatch_warning(std::string_view cli_version,
                                                    std::string_view server_version);

// Answer to a "[Y/n]" prompt: empty, "y" and "yes" (any case, surrounding
// blanks ignored) accept.
bool accepts_default_yes(std::string_view answer);

// Last non-blank line of `text`, without its line ending ("" if none).
std::string last_nonblank_line(std::string_view text);

}  // namespace blockyard::cli
