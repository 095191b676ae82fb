#include "store/timestamp.h"

#include <gtest/gtest.h>

#include <regex>

#include "store/store.h"

namespace blockyard::store {
namespace {

using std::chrono::seconds;

TEST(Timestamp, NowHasTheFixedStoreFormat) {
  std::string now = now_rfc3339();
  EXPECT_TRUE(std::regex_match(now, std::regex(R"(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z)"))) << now;
  auto parsed = parse_rfc3339(now);
  ASSERT_TRUE(parsed);
  auto drift = std::chrono::system_clock::now() - *parsed;
  EXPECT_LT(std::chrono::abs(drift), seconds(5));
}

TEST(Timestamp, FormatsEpochOffsets) {
  EXPECT_EQ(format_rfc3339(std::chrono::system_clock::from_time_t(0)), "1970-01-01T00:00:00Z");
  EXPECT_EQ(format_rfc3339(std::chrono::system_clock::from_time_t(1774522800)),
            "2026-03-26T11:00:00Z");
}

TEST(Timestamp, ParsesZuluOffsetsAndFractions) {
  auto base = std::chrono::system_clock::from_time_t(1774522800);
  EXPECT_EQ(parse_rfc3339("2026-03-26T11:00:00Z"), base);
  EXPECT_EQ(parse_rfc3339("2026-03-26T11:00:00.123456789Z"), base);
  EXPECT_EQ(parse_rfc3339("2026-03-26T13:00:00+02:00"), base);
  EXPECT_EQ(parse_rfc3339("2026-03-26T06:30:00-04:30"), base);
  EXPECT_EQ(parse_rfc3339("2024-02-29T00:00:00Z"),
            std::chrono::system_clock::from_time_t(1709164800));
}

TEST(Timestamp, RejectsMalformedInput) {
  for (const char* bad :
       {"", "never", "2026-03-26", "2026-03-26T11:00:00", "2026-03-26 11:00:00Z",
        "2026-13-01T00:00:00Z", "2026-02-30T00:00:00Z", "2025-02-29T00:00:00Z",
        "2026-03-26T24:00:00Z", "2026-03-26T11:00:00.Z", "2026-03-26T11:00:00+0200",
        "2026-03-26T11:00:00Zjunk", "2026-03-26T11:00:00+02:00x", "2026-0a-26T11:00:00Z"}) {
    EXPECT_FALSE(parse_rfc3339(bad)) << bad;
  }
}

}  // namespace
}  // namespace blockyard::store
