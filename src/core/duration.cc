// Go-syntax durations ("1h30m", "250ms", "0"), the format the original's
// config uses. Parsing works in nanoseconds like Go, then converts to our
// millisecond Duration.
#include <cstdint>
#include <limits>
#include <stdexcept>
#include <string>
#include <string_view>

#include "core/config.h"

namespace blockyard {
namespace {

constexpr std::uint64_t kNanosPerMilli = 1'000'000;

bool is_digit(char c) {
  return c >= '0' && c <= '9';
}

// Nanoseconds per unit, or 0 when `unit` is not a Go duration unit.
std::uint64_t unit_nanos(std::string_view unit) {
  if (unit == "ns") return 1;
  if (unit == "us" || unit == "\xC2\xB5s" || unit == "\xCE\xBCs") return 1'000;  // µs, μs
  if (unit == "ms") return kNanosPerMilli;
  if (unit == "s") return 1'000'000'000ULL;
  if (unit == "m") return 60'000'000'000ULL;
  if (unit == "h") return 3'600'000'000'000ULL;
  return 0;
}

[[noreturn]] void invalid(std::string_view text, const char* why) {
  throw std::invalid_argument("invalid duration \"" + std::string(text) + "\": " + why);
}

}  // namespace

Duration parse_duration(std::string_view text) {
  std::string_view rest = text;
  bool negative = false;
  if (!rest.empty() && (rest.front() == '-' || rest.front() == '+')) {
    negative = rest.front() == '-';
    rest.remove_prefix(1);
  }
  if (rest == "0") return Duration{0};
  if (rest.empty()) invalid(text, "empty");

  // Go allows up to 1<<63 ns in magnitude for a negative value, 1<<63 - 1 otherwise.
  const std::uint64_t limit =
      static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max()) + (negative ? 1 : 0);
  std::uint64_t total = 0;
  while (!rest.empty()) {
    std::uint64_t whole = 0;
    std::size_t whole_digits = 0;
    while (whole_digits < rest.size() && is_digit(rest[whole_digits])) {
      if (__builtin_mul_overflow(whole, 10U, &whole) ||
          __builtin_add_overflow(whole, static_cast<unsigned>(rest[whole_digits] - '0'), &whole)) {
        invalid(text, "overflow");
      }
      ++whole_digits;
    }
    rest.remove_prefix(whole_digits);
    std::string_view fraction;
    if (!rest.empty() && rest.front() == '.') {
      rest.remove_prefix(1);
      std::size_t n = 0;
      while (n < rest.size() && is_digit(rest[n])) ++n;
      fraction = rest.substr(0, n);
      rest.remove_prefix(n);
    }
    if (whole_digits == 0 && fraction.empty()) invalid(text, "expected a number");

    std::size_t unit_len = 0;
    while (unit_len < rest.size() && rest[unit_len] != '.' && !is_digit(rest[unit_len])) {
      ++unit_len;
    }
    if (unit_len == 0) invalid(text, "missing unit (ns, us, ms, s, m, h)");
    const std::uint64_t unit = unit_nanos(rest.substr(0, unit_len));
    if (unit == 0) {
      invalid(text, ("unknown unit \"" + std::string(rest.substr(0, unit_len)) + "\"").c_str());
    }
    rest.remove_prefix(unit_len);

    std::uint64_t part = 0;
    if (__builtin_mul_overflow(whole, unit, &part)) invalid(text, "overflow");
    // The fraction contributes less than one unit; long double keeps it exact
    // enough at nanosecond resolution, and Go truncates the same way.
    long double scale = 1;
    long double frac = 0;
    for (char c : fraction) {
      scale /= 10;
      frac += (c - '0') * scale;
    }
    if (__builtin_add_overflow(part, static_cast<std::uint64_t>(frac * unit), &part) ||
        __builtin_add_overflow(total, part, &total) || total > limit) {
      invalid(text, "overflow");
    }
  }
  // Below-millisecond values that are not zero round up to 1 ms so that "500us"
  // does not silently turn into 0, which several keys read as "disabled".
  std::uint64_t millis = total / kNanosPerMilli;
  if (millis == 0 && total != 0) millis = 1;
  const auto signed_millis = static_cast<std::int64_t>(millis);
  return Duration{negative ? -signed_millis : signed_millis};
}

std::string format_duration(Duration duration) {
  std::int64_t ms = duration.count();
  if (ms == 0) return "0s";
  std::string out;
  std::uint64_t magnitude = ms < 0 ? 0 - static_cast<std::uint64_t>(ms) : ms;
  if (ms < 0) out = "-";
  const std::uint64_t hours = magnitude / 3'600'000;
  const std::uint64_t minutes = magnitude / 60'000 % 60;
  const std::uint64_t seconds = magnitude / 1000 % 60;
  const std::uint64_t millis = magnitude % 1000;
  if (hours) out += std::to_string(hours) + "h";
  if (minutes) out += std::to_string(minutes) + "m";
  if (seconds) out += std::to_string(seconds) + "s";
  if (millis) out += std::to_string(millis) + "ms";
  return out;
}

}  // namespace blockyard
