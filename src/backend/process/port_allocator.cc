#include "backend/process/port_allocator.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <string>

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

PortAllocator::PortAllocator(int first, int last)
    : first_(first), used_(last >= first ? static_cast<std::size_t>(last - first + 1) : 0) {}

PortLease PortAllocator::reserve() {
  std::lock_guard lock(mu_);
  for (std::size_t i = 0; i < used_.size(); ++i) {
    if (used_[i]) continue;
    const int port = first_ + static_cast<int>(i);
    UniqueFd listener = listen_loopback(port);
    if (!listener.valid()) continue;  // a foreign process holds it: skip, don't mark
    used_[i] = true;
    return PortLease(this, port, std::move(listener));
  }
  throw std::runtime_error("process backend: all " + std::to_string(used_.size()) +
                           " ports in use");
}

void PortAllocator::release(int port) {
  std::lock_guard lock(mu_);
  const long index = static_cast<long>(port) - first_;
  if (index < 0 || index >= static_cast<long>(used_.size())) return;
  used_[static_cast<std::size_t>(index)] = false;
}

int PortAllocator::in_use() const {
  std::lock_guard lock(mu_);
  int n = 0;
  for (bool u : used_) n += u ? 1 : 0;
  return n;
}

}  // namespace blockyard::backend::process
