// Memory sizes as operators write them for worker limits ("512m", "2g",
// "1GiB"), with binary multiples as Docker reads them.
#include <cctype>
#include <charconv>
#include <cstdint>
#include <stdexcept>
#include <string>
#include <string_view>

#include "core/config.h"

namespace blockyard {

std::int64_t parse_memory_size(std::string_view text) {
  auto invalid = [&](const char* why) {
    return std::invalid_argument("invalid memory size \"" + std::string(text) + "\": " + why);
  };
  std::size_t digits = 0;
  while (digits < text.size() && std::isdigit(static_cast<unsigned char>(text[digits]))) ++digits;
  if (digits == 0) throw invalid("expected a number followed by an optional unit (k, m, g, t)");
  std::int64_t number = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + digits, number);
  if (ec != std::errc{} || end != text.data() + digits) throw invalid("number out of range");

  std::string unit;
  for (char c : text.substr(digits))
    unit += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  int shift = -1;
  if (unit.empty() || unit == "b") shift = 0;
  const std::string_view prefixes = "kmgt";
  for (std::size_t i = 0; i < prefixes.size() && shift < 0; ++i) {
    const std::string p(1, prefixes[i]);
    if (unit == p || unit == p + "b" || unit == p + "ib") shift = 10 * static_cast<int>(i + 1);
  }
  if (shift < 0) throw invalid("unknown unit (use b, k, m, g or t)");
  if (number == 0) throw invalid("must be greater than zero");
  std::int64_t bytes = 0;
  if (__builtin_mul_overflow(number, std::int64_t{1} << shift, &bytes)) throw invalid("too large");
  return bytes;
}

}  // namespace blockyard
