// The RangeAllocator conformance suite (range_allocator_conformance_test.cc).
// Its harness opens allocators for named owners over one range, so the suite
// can check what servers sharing a range see. Test-only header.
#pragma once

#include <gtest/gtest.h>

#include <functional>
#include <memory>
#include <ostream>
#include <string>

#include "state/range_allocator.h"

namespace blockyard::state::testing {

// One empty range [first, last] for one test.
class RangeHarness {
 public:
  virtual ~RangeHarness() = default;
  // An allocator claiming for `owner` on this harness's range.
  virtual std::shared_ptr<RangeAllocator> open(const std::string& owner) = 0;
};

struct RangeImpl {
  std::string name;
  std::function<std::unique_ptr<RangeHarness>(int first, int last)> make_harness;
};

inline void PrintTo(const RangeImpl& impl, std::ostream* os) {
  *os << impl.name;
}

class RangeAllocatorConformanceTest : public ::testing::TestWithParam<RangeImpl> {
 protected:
  // The range [first, last], and an allocator on it for owner "host-a".
  RangeAllocator& open_range(int first, int last) {
    harness_ = GetParam().make_harness(first, last);
    allocator_ = harness_->open("host-a");
    return *allocator_;
  }
  std::shared_ptr<RangeAllocator> open_owner(const std::string& owner) {
    return harness_->open(owner);
  }

  std::unique_ptr<RangeHarness> harness_;
  std::shared_ptr<RangeAllocator> allocator_;
};

}  // namespace blockyard::state::testing
