// The state conformance suites instantiated for the memory implementations.
#include <gtest/gtest.h>

#include "state/memory_range_allocator.h"
#include "state/memory_session_store.h"
#include "state/memory_worker_map.h"
#include "state/range_allocator_conformance.h"
#include "state/session_store_conformance.h"
#include "state/worker_map_conformance.h"

namespace blockyard::state::testing {
namespace {

// Every open() hands out the same object: one process, one copy of the state.
template <class Interface, class Memory>
class MemoryHarness : public Harness<Interface> {
 public:
  std::shared_ptr<Interface> open() override { return state_; }

 private:
  std::shared_ptr<Memory> state_ = std::make_shared<Memory>();
};

template <class Interface, class Memory>
Impl<Interface> memory_impl() {
  return {"memory", [] {
            return std::unique_ptr<Harness<Interface>>(
                std::make_unique<MemoryHarness<Interface, Memory>>());
          }};
}

INSTANTIATE_TEST_SUITE_P(Memory, SessionStoreConformanceTest,
                         ::testing::Values(memory_impl<SessionStore, MemorySessionStore>()),
                         [](const auto& info) { return info.param.name; });

INSTANTIATE_TEST_SUITE_P(Memory, WorkerMapConformanceTest,
                         ::testing::Values(memory_impl<WorkerMap, MemoryWorkerMap>()),
                         [](const auto& info) { return info.param.name; });

class MemoryRangeHarness : public RangeHarness {
 public:
  MemoryRangeHarness(int first, int last) : range_(std::make_shared<MemoryRange>(first, last)) {}
  std::shared_ptr<RangeAllocator> open(const std::string& owner) override {
    return std::make_shared<MemoryRangeAllocator>(range_, owner);
  }

 private:
  std::shared_ptr<MemoryRange> range_;
};

INSTANTIATE_TEST_SUITE_P(Memory, RangeAllocatorConformanceTest,
                         ::testing::Values(RangeImpl{"memory",
                                                     [](int first, int last) {
                                                       return std::unique_ptr<RangeHarness>(
                                                           std::make_unique<MemoryRangeHarness>(
                                                               first, last));
                                                     }}),
                         [](const auto& info) { return info.param.name; });

TEST(MemoryState, AnswersWithoutIo) {
  EXPECT_TRUE(MemorySessionStore().is_local());
  EXPECT_TRUE(MemoryWorkerMap().is_local());
}

TEST(MemoryRangeAllocator, AFreshRangeHasNoStaleClaims) {
  MemoryRangeAllocator range(10, 12);
  EXPECT_EQ(range.release_stale_claims(), 0);
  EXPECT_EQ(range.claim(), 10);
}

}  // namespace
}  // namespace blockyard::state::testing
