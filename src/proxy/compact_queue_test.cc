#include "proxy/compact_queue.h"

#include <gtest/gtest.h>

#include <string>

namespace blockyard::proxy {
namespace {

TEST(CompactQueue, KeepsOrderAcrossCompactionsAndHoldsNothingOnceEmpty) {
  CompactQueue<std::string> queue;
  EXPECT_TRUE(queue.empty());
  EXPECT_EQ(queue.capacity(), 0u);
  int next_in = 0, next_out = 0;
  // Interleaved pushes and pops, so the head moves past the compaction point.
  for (int round = 0; round < 50; ++round) {
    for (int i = 0; i < 3; ++i) queue.push_back(std::to_string(next_in++));
    for (int i = 0; i < 2; ++i) {
      ASSERT_EQ(queue.front(), std::to_string(next_out++));
      queue.pop_front();
    }
    ASSERT_EQ(queue.size(), static_cast<std::size_t>(next_in - next_out));
    ASSERT_EQ(queue[0], std::to_string(next_out));
  }
  EXPECT_LT(queue.capacity(), 150u) << "popped elements are compacted away";
  while (!queue.empty()) {
    ASSERT_EQ(queue.front(), std::to_string(next_out++));
    queue.pop_front();
  }
  EXPECT_EQ(next_out, next_in);
  EXPECT_EQ(queue.capacity(), 0u) << "an empty queue gives its storage back";
  queue.push_back("again");
  EXPECT_EQ(queue.front(), "again");
}

}  // namespace
}  // namespace blockyard::proxy
