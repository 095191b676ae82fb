#include "backend/process/port_allocator.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <string>

#include "state/memory_range_allocator.h"

namespace blockyard::backend::process {

PortLease::PortLease(PortLease&& other) noexcept
    : owner_(std::exchange(other.owner_, nullptr)),
      port_(other.port_.exchange(0)),
      listener_(std::move(other.listener_)) {}

PortLease& PortLease::operator=(PortLease&& other) noexcept {
  if (this != &other) {
    release();
    owner_ = std::exchange(other.owner_, nullptr);
    port_ = other.port_.exchange(0);
    listener_ = std::move(other.listener_);
  }
  return *this;
}

void PortLease::release() {
  listener_.reset();
  const int port = port_.exchange(0);
  if (port != 0 && owner_ != nullptr) owner_->release(port);
}

UniqueFd listen_loopback(int port) {
  UniqueFd fd(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
  if (!fd.valid()) return {};
  // Like the worker's own listener (httpuv sets it too): a port whose last
  // connection lingers in TIME_WAIT is free; a live listener still blocks.
  const int on = 1;
  ::setsockopt(fd.get(), SOL_SOCKET, SO_REUSEADDR, &on, sizeof on);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(port));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::bind(fd.get(), reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) return {};
  if (::listen(fd.get(), 1) != 0) return {};
  return fd;
}

PortAllocator::PortAllocator(std::shared_ptr<state::RangeAllocator> range)
    : range_(std::move(range)) {}

PortAllocator::PortAllocator(int first, int last)
    : PortAllocator(std::make_shared<state::MemoryRangeAllocator>(first, last)) {}

PortLease PortAllocator::reserve() {
  for (int from = range_->first(); auto port = range_->claim(from);) {
    UniqueFd listener = listen_loopback(*port);
    if (listener.valid()) return PortLease(this, *port, std::move(listener));
    range_->release(*port);  // a foreign process holds it: skip it, keep it free
    from = *port + 1;
  }
  throw std::runtime_error("process backend: all " + std::to_string(range_->size()) +
                           " ports in use");
}

void PortAllocator::release(int port) {
  range_->release(port);
}

}  // namespace blockyard::backend::process
