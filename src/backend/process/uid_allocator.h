// Worker UIDs: host UIDs from [process] worker_uid_range_start..end, handed
// out by a state::RangeAllocator (shared with other servers when the range
// is). Every worker (and build) runs under its own UID while it lives, so
// `iptables -m owner` and RLIMIT_NPROC can tell workers apart.
//
// Thread safety: a UidLease may be released from any thread; it must not
// outlive the allocator that issued it.
#pragma once

#include <atomic>
#include <utility>

#include "state/range_allocator.h"

namespace blockyard::backend::process {

// Ownership of one allocated UID; released on destruction or release()
// (idempotent, thread-safe). 0 = none held (never a worker UID: root).
class UidLease {
 public:
  UidLease() = default;
  // Claims the lowest free UID. Throws std::runtime_error ("process backend:
  // all N worker UIDs in use") when the range is used up.
  explicit UidLease(state::RangeAllocator& owner);
  UidLease(UidLease&& other) noexcept
      : owner_(std::exchange(other.owner_, nullptr)), uid_(other.uid_.exchange(0)) {}
  UidLease& operator=(UidLease&& other) noexcept {
    if (this != &other) {
      release();
      owner_ = std::exchange(other.owner_, nullptr);
      uid_ = other.uid_.exchange(0);
    }
    return *this;
  }
  UidLease(const UidLease&) = delete;
  UidLease& operator=(const UidLease&) = delete;
  ~UidLease() { release(); }

  int uid() const { return uid_.load(); }
  void release() {
    const int uid = uid_.exchange(0);
    if (uid != 0 && owner_ != nullptr) owner_->release(uid);
  }

 private:
  state::RangeAllocator* owner_ = nullptr;
  std::atomic<int> uid_{0};
};

}  // namespace blockyard::backend::process
