// UidAllocator: hands out host UIDs for workers from the inclusive range
// [process] worker_uid_range_start..worker_uid_range_end. Every worker (and
// build) runs under its own UID while it lives, so `iptables -m owner` and
// RLIMIT_NPROC can tell workers apart. The interface is what a shared-state
// implementation (Redis, several servers on one host) will implement too.
//
// Thread safety: implementations are safe to call concurrently. A UidLease
// must not outlive the allocator that issued it.
#pragma once

#include <atomic>
#include <memory>
#include <mutex>
#include <utility>
#include <vector>

namespace blockyard::backend::process {

class UidAllocator {
 public:
  virtual ~UidAllocator() = default;
  // The lowest free UID. Throws std::runtime_error when the range is used up.
  virtual int allocate() = 0;
  // Returns `uid` to the pool; UIDs outside the range or not held are ignored.
  virtual void release(int uid) = 0;
  virtual int in_use() const = 0;
  virtual int size() const = 0;
  // Drops every claim this host still holds from an earlier (crashed) run.
  // The in-memory allocator starts empty, so there is nothing to drop.
  virtual void release_stale_claims() = 0;
};

// A bitset over the range, lowest free first.
class MemoryUidAllocator final : public UidAllocator {
 public:
  // Inclusive range; a reversed range is an empty pool.
  MemoryUidAllocator(int first, int last);
  MemoryUidAllocator(const MemoryUidAllocator&) = delete;
  MemoryUidAllocator& operator=(const MemoryUidAllocator&) = delete;

  int allocate() override;
  void release(int uid) override;
  int in_use() const override;
  int size() const override { return static_cast<int>(used_.size()); }
  void release_stale_claims() override {}

 private:
  const int first_;
  mutable std::mutex mu_;
  std::vector<bool> used_;
};

// Ownership of one allocated UID; released on destruction or release()
// (idempotent, thread-safe). 0 = none held (never a worker UID: root).
class UidLease {
 public:
  UidLease() = default;
  UidLease(UidAllocator& owner, int uid) : owner_(&owner), uid_(uid) {}
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
  UidAllocator* owner_ = nullptr;
  std::atomic<int> uid_{0};
};

}  // namespace blockyard::backend::process
