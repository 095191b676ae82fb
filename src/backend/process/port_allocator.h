// PortAllocator: hands out TCP ports for workers on 127.0.0.1 from a
// state::RangeAllocator (the [process] port range, possibly shared with other
// servers). A port is only handed out after binding 127.0.0.1:port succeeded:
// a port held by a foreign listener is given back to the range and the next
// one tried. The bound socket is kept in the PortLease until the caller closes
// it right before the worker starts, so no one else can grab the port in
// between.
//
// Thread safety: all methods are safe to call concurrently. The allocator must
// outlive every PortLease it handed out.
#pragma once

#include <atomic>
#include <memory>
#include <stdexcept>

#include "core/unique_fd.h"
#include "state/range_allocator.h"

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
  explicit PortAllocator(std::shared_ptr<state::RangeAllocator> range);
  // Over a range of its own (inclusive; a reversed range is an empty pool).
  PortAllocator(int first, int last);
  PortAllocator(const PortAllocator&) = delete;
  PortAllocator& operator=(const PortAllocator&) = delete;

  // The lowest free port whose bind succeeds. Throws std::runtime_error
  // ("process backend: all N ports in use") when none is left.
  PortLease reserve();
  // Returns `port` to the pool; ports outside the range are ignored.
  void release(int port);
  // Number of ports currently handed out (by every owner of the range).
  int in_use() const { return range_->in_use(); }
  int size() const { return range_->size(); }

 private:
  std::shared_ptr<state::RangeAllocator> range_;
};

// The address workers listen on (and the port allocator binds to check a port).
inline constexpr const char* kWorkerHost = "127.0.0.1";

// Binds a TCP socket to 127.0.0.1:port and listens; invalid UniqueFd when the
// port is taken. Exposed for tests and the health probe.
UniqueFd listen_loopback(int port);

}  // namespace blockyard::backend::process
