// Conformance suite for state::RangeAllocator; see
// range_allocator_conformance.h. Instantiated per implementation
// (memory_state_test.cc for the memory one).
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <mutex>
#include <set>
#include <thread>
#include <vector>

#include "state/range_allocator_conformance.h"

namespace blockyard::state::testing {
namespace {

TEST_P(RangeAllocatorConformanceTest, ClaimsLowestFreeFirstUntilExhausted) {
  RangeAllocator& range = open_range(100, 102);
  EXPECT_EQ(range.first(), 100);
  EXPECT_EQ(range.last(), 102);
  EXPECT_EQ(range.size(), 3);
  EXPECT_EQ(range.claim(), 100);
  EXPECT_EQ(range.claim(), 101);
  EXPECT_EQ(range.claim(), 102);
  EXPECT_EQ(range.claim(), std::nullopt);
  EXPECT_EQ(range.in_use(), 3);
  EXPECT_TRUE(range.release(101));
  EXPECT_EQ(range.in_use(), 2);
  EXPECT_EQ(range.claim(), 101) << "a released number is handed out again";
}

TEST_P(RangeAllocatorConformanceTest, ClaimFromSkipsLowerNumbers) {
  RangeAllocator& range = open_range(100, 104);
  EXPECT_EQ(range.claim(102), 102);
  EXPECT_EQ(range.claim(102), 103);
  EXPECT_EQ(range.claim(50), 100) << "below the range means its start";
  EXPECT_EQ(range.claim(104), 104);
  EXPECT_EQ(range.claim(104), std::nullopt);
  EXPECT_EQ(range.claim(200), std::nullopt);
  EXPECT_EQ(range.claim(), 101);
}

TEST_P(RangeAllocatorConformanceTest, ReleaseIgnoresWhatItDoesNotHold) {
  RangeAllocator& range = open_range(100, 101);
  EXPECT_FALSE(range.release(100)) << "not claimed";
  EXPECT_FALSE(range.release(99));
  EXPECT_FALSE(range.release(102));
  EXPECT_EQ(range.claim(), 100);
  EXPECT_TRUE(range.release(100));
  EXPECT_FALSE(range.release(100)) << "released twice";
  EXPECT_EQ(range.in_use(), 0);
}

TEST_P(RangeAllocatorConformanceTest, AReversedRangeIsEmpty) {
  RangeAllocator& range = open_range(10, 9);
  EXPECT_EQ(range.size(), 0);
  EXPECT_EQ(range.claim(), std::nullopt);
}

TEST_P(RangeAllocatorConformanceTest, OwnersNeverShareANumberNorReleaseEachOthers) {
  RangeAllocator& a = open_range(100, 103);
  auto b = open_owner("host-b");
  EXPECT_EQ(a.claim(), 100);
  EXPECT_EQ(b->claim(), 101);
  EXPECT_EQ(a.claim(), 102);
  EXPECT_EQ(b->in_use(), 3) << "in_use counts every owner's claims";
  EXPECT_FALSE(b->release(100)) << "host-b cannot release host-a's claim";
  EXPECT_EQ(b->claim(), 103);
  EXPECT_EQ(a.claim(), std::nullopt);
}

TEST_P(RangeAllocatorConformanceTest, ReleaseStaleClaimsDropsOnlyTheOwnersClaims) {
  RangeAllocator& a = open_range(100, 104);
  auto b = open_owner("host-b");
  a.claim();
  a.claim();
  b->claim();
  // host-a restarts: a new allocator for the same owner drops what it held.
  auto restarted = open_owner("host-a");
  EXPECT_EQ(restarted->release_stale_claims(), 2);
  EXPECT_EQ(b->in_use(), 1);
  EXPECT_EQ(restarted->claim(), 100);
  EXPECT_FALSE(b->release(100));
  EXPECT_EQ(b->release_stale_claims(), 1);
  EXPECT_EQ(restarted->in_use(), 1);
}

TEST_P(RangeAllocatorConformanceTest, ConcurrentClaimsNeverHandOutANumberTwice) {
  RangeAllocator& range = open_range(1000, 1099);
  constexpr int kThreads = 8;
  std::mutex mu;
  std::multiset<int> claimed;
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      auto mine = open_owner("host-" + std::to_string(t % 2));
      while (auto n = mine->claim()) {
        std::lock_guard lock(mu);
        claimed.insert(*n);
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(claimed.size(), 100u);
  EXPECT_EQ(std::set<int>(claimed.begin(), claimed.end()).size(), 100u);
  EXPECT_EQ(range.in_use(), 100);
}

}  // namespace
}  // namespace blockyard::state::testing
