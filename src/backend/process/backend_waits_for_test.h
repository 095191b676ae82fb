// Helpers shared by the backend's tests (header only: not part of the
// library): polling waits, each false when `timeout` passes first, and a
// log's text for assertions and failure messages.
#pragma once

#include <chrono>
#include <string>
#include <thread>

#include "backend/backend.h"
#include "core/line_log.h"

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

// Every line still held by `log`, each followed by a newline.
inline std::string log_text(const LineLog& log) {
  std::string out;
  for (const auto& line : log.read_from(0).lines) out += line + "\n";
  return out;
}

}  // namespace blockyard::backend::process::test_support
