// RFC 3339 timestamps as the store keeps them: UTC, second precision, a
// literal "Z" ("2026-03-26T11:00:00Z"). The fixed width makes plain string
// comparison order them correctly. Thread safe; no failure modes except the
// documented empty optional.
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <string_view>

namespace blockyard::store {

using TimePoint = std::chrono::system_clock::time_point;

// Formats `t` (truncated to whole seconds) in the store's format.
std::string format_rfc3339(TimePoint t);

// Parses "YYYY-MM-DDTHH:MM:SS", optional fraction, then "Z" or "±HH:MM"
// ("t"/"z" accepted too). Empty optional for anything else, including
// out-of-range fields.
std::optional<TimePoint> parse_rfc3339(std::string_view text);

// The current time in this format (for callers; the store never reads the clock).
std::string now_rfc3339();

}  // namespace blockyard::store
