#include "backend/process/uid_allocator.h"

#include <stdexcept>
#include <string>

namespace blockyard::backend::process {

MemoryUidAllocator::MemoryUidAllocator(int first, int last)
    : first_(first), used_(last >= first ? static_cast<std::size_t>(last - first + 1) : 0) {}

int MemoryUidAllocator::allocate() {
  std::lock_guard lock(mu_);
  for (std::size_t i = 0; i < used_.size(); ++i) {
    if (used_[i]) continue;
    used_[i] = true;
    return first_ + static_cast<int>(i);
  }
  throw std::runtime_error("process backend: all " + std::to_string(used_.size()) +
                           " worker UIDs in use");
}

void MemoryUidAllocator::release(int uid) {
  std::lock_guard lock(mu_);
  const long index = static_cast<long>(uid) - first_;
  if (index < 0 || index >= static_cast<long>(used_.size())) return;
  used_[static_cast<std::size_t>(index)] = false;
}

int MemoryUidAllocator::in_use() const {
  std::lock_guard lock(mu_);
  int n = 0;
  for (bool u : used_) n += u ? 1 : 0;
  return n;
}

}  // namespace blockyard::backend::process
