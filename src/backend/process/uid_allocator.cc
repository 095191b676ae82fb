#include "backend/process/uid_allocator.h"

#include <stdexcept>
#include <string>

namespace blockyard::backend::process {

UidLease::UidLease(state::RangeAllocator& owner) : owner_(&owner) {
  const auto uid = owner.claim();
  if (!uid)
    throw std::runtime_error("process backend: all " + std::to_string(owner.size()) +
                             " worker UIDs in use");
  uid_ = *uid;
}

}  // namespace blockyard::backend::process
