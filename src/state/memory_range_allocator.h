// MemoryRangeAllocator: a RangeAllocator over a range kept in this process.
// The range itself (MemoryRange, a bitset with an owner per claimed number)
// may be shared by several allocators with different owners; each allocator
// is one owner's handle on it. A fresh range is empty, so a restarted server
// has no stale claims to drop.
#pragma once

#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "state/range_allocator.h"

namespace blockyard::state {

class MemoryRange {
 public:
  // Inclusive; a reversed range is empty.
  MemoryRange(int first, int last);
  MemoryRange(const MemoryRange&) = delete;
  MemoryRange& operator=(const MemoryRange&) = delete;

 private:
  friend class MemoryRangeAllocator;
  const int first_;
  const int last_;
  std::mutex mu_;
  std::vector<std::string> owners_;  // "" = free
  int in_use_ = 0;
};

class MemoryRangeAllocator final : public RangeAllocator {
 public:
  MemoryRangeAllocator(std::shared_ptr<MemoryRange> range, std::string owner);
  // A range of its own, with this process as its only owner.
  MemoryRangeAllocator(int first, int last);

  int first() const override { return range_->first_; }
  int last() const override { return range_->last_; }
  using RangeAllocator::claim;
  std::optional<int> claim(int from) override;
  bool release(int n) override;
  int in_use() override;
  int release_stale_claims() override;

 private:
  std::shared_ptr<MemoryRange> range_;
  const std::string owner_;
};

}  // namespace blockyard::state
