#include "store/timestamp.h"

#include <ctime>

#include "store/store.h"

namespace blockyard::store {
namespace {

// Reads exactly `width` decimal digits at `pos`; -1 if any is not a digit.
int read_digits(std::string_view text, std::size_t pos, std::size_t width) {
  if (pos + width > text.size()) return -1;
  int value = 0;
  for (std::size_t i = pos; i < pos + width; ++i) {
    char c = text[i];
    if (c < '0' || c > '9') return -1;
    value = value * 10 + (c - '0');
  }
  return value;
}

bool is_leap(int year) {
  return (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
}

int days_in_month(int year, int month) {
  static constexpr int kDays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  return month == 2 && is_leap(year) ? 29 : kDays[month - 1];
}

}  // namespace

std::string format_rfc3339(TimePoint t) {
  std::time_t seconds =
      std::chrono::system_clock::to_time_t(std::chrono::time_point_cast<std::chrono::seconds>(t));
  std::tm utc{};
  gmtime_r(&seconds, &utc);
  char buffer[32];
  std::strftime(buffer, sizeof buffer, "%Y-%m-%dT%H:%M:%SZ", &utc);
  return buffer;
}

std::optional<TimePoint> parse_rfc3339(std::string_view text) {
  // 0123456789012345678
  // YYYY-MM-DDTHH:MM:SS
  if (text.size() < 20) return std::nullopt;
  if (text[4] != '-' || text[7] != '-' || (text[10] != 'T' && text[10] != 't') || text[13] != ':' ||
      text[16] != ':') {
    return std::nullopt;
  }
  int year = read_digits(text, 0, 4), month = read_digits(text, 5, 2),
      day = read_digits(text, 8, 2), hour = read_digits(text, 11, 2),
      minute = read_digits(text, 14, 2), second = read_digits(text, 17, 2);
  if (year < 0 || month < 1 || month > 12 || day < 1 || hour < 0 || hour > 23 || minute < 0 ||
      minute > 59 || second < 0 || second > 60) {
    return std::nullopt;
  }
  if (day > days_in_month(year, month)) return std::nullopt;

  std::size_t pos = 19;
  if (text[pos] == '.') {
    std::size_t start = ++pos;
    while (pos < text.size() && text[pos] >= '0' && text[pos] <= '9') ++pos;
    if (pos == start) return std::nullopt;  // sub-second precision is dropped
  }
  if (pos >= text.size()) return std::nullopt;
  long offset_seconds = 0;
  char zone = text[pos];
  if (zone == 'Z' || zone == 'z') {
    ++pos;
  } else if (zone == '+' || zone == '-') {
    int off_hour = read_digits(text, pos + 1, 2), off_minute = read_digits(text, pos + 4, 2);
    if (off_hour < 0 || off_hour > 23 || off_minute < 0 || off_minute > 59 ||
        pos + 3 >= text.size() || text[pos + 3] != ':') {
      return std::nullopt;
    }
    offset_seconds = (off_hour * 60L + off_minute) * 60L * (zone == '+' ? 1 : -1);
    pos += 6;
  } else {
    return std::nullopt;
  }
  if (pos != text.size()) return std::nullopt;

  std::tm fields{};
  fields.tm_year = year - 1900;
  fields.tm_mon = month - 1;
  fields.tm_mday = day;
  fields.tm_hour = hour;
  fields.tm_min = minute;
  fields.tm_sec = second;
  std::time_t utc = timegm(&fields) - offset_seconds;
  return std::chrono::system_clock::from_time_t(utc);
}

std::string now_rfc3339() {
  return format_rfc3339(std::chrono::system_clock::now());
}

}  // namespace blockyard::store
