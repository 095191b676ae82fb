#include "state/memory_range_allocator.h"

#include <algorithm>
#include <stdexcept>

namespace blockyard::state {

MemoryRange::MemoryRange(int first, int last)
    : first_(first),
      last_(last),
      owners_(last >= first ? static_cast<std::size_t>(last - first + 1) : 0) {}

MemoryRangeAllocator::MemoryRangeAllocator(std::shared_ptr<MemoryRange> range, std::string owner)
    : range_(std::move(range)), owner_(std::move(owner)) {
  if (owner_.empty()) throw std::invalid_argument("range allocator: empty owner");
}

MemoryRangeAllocator::MemoryRangeAllocator(int first, int last)
    : MemoryRangeAllocator(std::make_shared<MemoryRange>(first, last), "this-process") {}

std::optional<int> MemoryRangeAllocator::claim(int from) {
  std::lock_guard lock(range_->mu_);
  auto& owners = range_->owners_;
  const long start = std::max(0L, static_cast<long>(from) - range_->first_);
  for (auto i = static_cast<std::size_t>(start); i < owners.size(); ++i) {
    if (!owners[i].empty()) continue;
    owners[i] = owner_;
    ++range_->in_use_;
    return range_->first_ + static_cast<int>(i);
  }
  return std::nullopt;
}

bool MemoryRangeAllocator::release(int n) {
  std::lock_guard lock(range_->mu_);
  const long index = static_cast<long>(n) - range_->first_;
  auto& owners = range_->owners_;
  if (index < 0 || index >= static_cast<long>(owners.size())) return false;
  std::string& owner = owners[static_cast<std::size_t>(index)];
  if (owner != owner_) return false;
  owner.clear();
  --range_->in_use_;
  return true;
}

int MemoryRangeAllocator::in_use() {
  std::lock_guard lock(range_->mu_);
  return range_->in_use_;
}

int MemoryRangeAllocator::release_stale_claims() {
  std::lock_guard lock(range_->mu_);
  int released = 0;
  for (auto& owner : range_->owners_) {
    if (owner != owner_) continue;
    owner.clear();
    ++released;
  }
  range_->in_use_ -= released;
  return released;
}

}  // namespace blockyard::state
