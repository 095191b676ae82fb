#include "proxy/worker_end.h"

#include <csignal>
#include <cstring>

namespace blockyard::proxy {

namespace {

constexpr const char* kTimeoutMarker = "did not start within";
constexpr const char* kMemoryMarker = "out of memory";

}  // namespace

const char* end_cause_name(WorkerEnded::How how) {
  switch (how) {
    case WorkerEnded::How::failed:
      return "failed";
    case WorkerEnded::How::exited:
      return "exited";
    case WorkerEnded::How::stopped:
      break;
  }
  return "stopped";
}

std::string exit_reason(int exit_code) {
  if (exit_code < 0) return "ended (exit status unknown)";
  if (exit_code <= 128) return "exited with code " + std::to_string(exit_code);
  const int signal = exit_code - 128;
  const std::string code = "exit code " + std::to_string(exit_code);
  // The kernel's OOM killer (a memory cgroup's limit) sends SIGKILL; nothing
  // else in a sandbox kills R that way short of a stop, which is not an exit.
  if (signal == SIGKILL)
    return "was killed (" + code + ": SIGKILL, most likely " + kMemoryMarker + ")";
  const char* name = sigabbrev_np(signal);
  return "was killed by a signal (" + code + (name ? std::string(": SIG") + name : "") + ")";
}

namespace {

// "60 s", or "300 ms" below a whole second.
std::string amount_of(std::chrono::milliseconds duration) {
  const long long ms = duration.count();
  return ms % 1000 == 0 ? std::to_string(ms / 1000) + " s" : std::to_string(ms) + " ms";
}

}  // namespace

std::string start_timeout_reason(std::chrono::milliseconds timeout) {
  return std::string("the app ") + kTimeoutMarker + " " + amount_of(timeout) +
         " (proxy.worker_start_timeout)";
}

std::string session_gone_reason(bool committed, std::chrono::milliseconds grace) {
  return (committed ? "its session's WebSocket closed over " : "no WebSocket connected within ") +
         amount_of(grace) + " (proxy.session_commit_grace)";
}

std::string user_start_failure(const std::string& reason) {
  if (reason.find(kTimeoutMarker) != std::string::npos) {
    return "The app took too long to start.";
  }
  if (reason.find(kMemoryMarker) != std::string::npos) {
    return "The app ran out of memory while starting.";
  }
  return "The app stopped with an error while starting.";
}

}  // namespace blockyard::proxy
