#include "proxy/upstream_pool.h"

#include <sys/socket.h>

namespace blockyard::proxy {

namespace {

// A pooled connection the worker has closed reads as EOF (or an error)
// without blocking; one still usable has nothing to read.
bool still_open(UpstreamSocket& socket) {
  char byte;
  ssize_t n = ::recv(socket.native_handle(), &byte, 1, MSG_PEEK | MSG_DONTWAIT);
  return n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK);
}

}  // namespace

std::optional<UpstreamSocket> UpstreamPool::take(const std::string& worker_id, bool check_open) {
  std::lock_guard lock(mu_);
  auto it = idle_.find(worker_id);
  if (it == idle_.end()) return std::nullopt;
  auto& sockets = it->second;
  while (!sockets.empty()) {
    UpstreamSocket socket = std::move(sockets.back());
    sockets.pop_back();
    if (!check_open || still_open(socket)) return socket;
  }
  idle_.erase(it);
  return std::nullopt;
}

void UpstreamPool::give(const std::string& worker_id, UpstreamSocket socket) {
  std::lock_guard lock(mu_);
  if (ended_.count(worker_id) != 0) return;  // `socket` closes here
  auto& sockets = idle_[worker_id];
  if (sockets.size() < max_idle_per_worker_) sockets.push_back(std::move(socket));
}

void UpstreamPool::drop(const std::string& worker_id) {
  std::lock_guard lock(mu_);
  idle_.erase(worker_id);
  if (!ended_.insert(worker_id).second) return;
  ended_order_.push_back(worker_id);
  if (ended_order_.size() > kRememberedEnds) {
    ended_.erase(ended_order_.front());
    ended_order_.pop_front();
  }
}

std::size_t UpstreamPool::workers_held() {
  std::lock_guard lock(mu_);
  return idle_.size();
}

}  // namespace blockyard::proxy
