// Polling helpers shared by the backend's tests (header only: not part of the
// library). Each returns false when `timeout` passes first.
#pragma once

#include <chrono>
#include <string>
#include <thread>

#include "backend/backend.h"

namespace blockyard::backend::process::test_support {

// True once the worker answers HTTP; false early if it has exited.
inline bool wait_healthy(Backend& backend, const std::string& id, std::chrono::seconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    if (backend.health_check(id)) return true;
    auto s = backend.status(id);
    if (!s || !s->running) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  return false;
}

// True once the backend reports the worker exited (its claims released).
inline bool wait_exited(Backend& backend, const std::string& id, std::chrono::seconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    auto s = backend.status(id);
    if (s && !s->running) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  return false;
}

}  // namespace blockyard::backend::process::test_support
