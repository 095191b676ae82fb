// PortAllocator: hands out TCP ports from an inclusive range for workers on
// 127.0.0.1. A port is only handed out after binding 127.0.0.1:port succeeded,
// so ports held by foreign listeners are skipped (and not marked). The bound
// socket is kept in the PortLease until the caller closes it right before the
// worker starts, so no one else can grab the port in between.
//
// Thread safety: all methods are safe to call concurrently. The allocator must
// outlive every PortLease it handed out.
#pragma once

#include <atomic>
#include <mutex>
#include <stdexcept>
#include <vector>

#include "core/unique_fd.h"

namespace blockyard::backend::process {

class PortAllocator;

// Ownership of one allocated port; returns it to the pool when destroyed or
// released (whichever comes first; release() is idempotent and thread-safe).
class PortLease {
 public:
  PortLease() = default;
  PortLease(PortLease&& other) noexcept;
  PortLease& operator=(PortLease&& other) noexcept;
  PortLease(const PortLease&) = delete;
  PortLease& operator=(const PortLease&) = delete;
  ~PortLease() { release(); }

  int port() const { return port_.load(); }
  // Closes the socket that holds the port bound (call just before the worker binds it).
  void close_listener() { listener_.reset(); }
  bool holds_listener() const { return listener_.valid(); }
  void release();

 private:
  friend class PortAllocator;
  PortLease(PortAllocator* owner, int port, UniqueFd listener)
      : owner_(owner), port_(port), listener_(std::move(listener)) {}

  PortAllocator* owner_ = nullptr;
  std::atomic<int> port_{0};  // 0 = nothing held
  UniqueFd listener_;
};

class PortAllocator {
 public:
  // Inclusive range; a reversed range is an empty pool.
  PortAllocator(int first, int last);
  PortAllocator(const PortAllocator&) = delete;
  PortAllocator& operator=(const PortAllocator&) = delete;

  // The lowest free port whose bind succeeds. Throws std::runtime_error
  // ("process backend: all N ports in use") when none is left.
  PortLease reserve();
  // Returns `port` to the pool; ports outside the range are ignored.
  void release(int port);
  // Number of ports currently handed out.
  int in_use() const;
  int size() const { return static_cast<int>(used_.size()); }

 private:
  const int first_;
  mutable std::mutex mu_;
  std::vector<bool> used_;
};

// Binds a TCP socket to 127.0.0.1:port and listens; invalid UniqueFd when the
// port is taken. Exposed for tests and the health probe.
UniqueFd listen_loopback(int port);

}  // namespace blockyard::backend::process
