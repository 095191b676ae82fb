// WorkerEvents: the one "worker ended" event. Every holder of per-worker
// state subscribes to it and drops that state when it fires: the session
// store, the worker history (logs retention), the open-connection counts, the
// upstream connection pool, the resumable-socket registry and the backend's
// table. The worker manager publishes it exactly once per worker, whatever
// ended it (stopped, failed to start, exited on its own).
//
// Thread safety: subscribe, unsubscribe (a Subscription going away) and
// publish may be called from any thread. Listeners run on the publishing
// thread, one after the other, and must not block nor (un)subscribe. Once a
// Subscription is destroyed its listener is never called again.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <shared_mutex>
#include <string>

namespace blockyard::proxy {

struct WorkerEnded {
  enum class How {
    stopped,  // we stopped it (idle, app stopped, pre-warm surplus, shutdown)
    failed,   // it never became ready (spawn error, exit or timeout while starting)
    exited,   // it exited on its own after it was ready
  };
  std::string worker_id;
  std::string app_id;
  How how = How::stopped;
  std::string reason;  // for logs and the API: why it ended
};

class WorkerEvents {
 public:
  using Listener = std::function<void(const WorkerEnded&)>;

  class Subscription {
   public:
    Subscription() = default;
    Subscription(Subscription&&) noexcept = default;
    Subscription& operator=(Subscription&&) noexcept = default;
    ~Subscription();

   private:
    friend class WorkerEvents;
    struct Token {
      WorkerEvents* events;
      int id;
    };
    std::unique_ptr<Token> token_;
  };

  WorkerEvents() = default;
  WorkerEvents(const WorkerEvents&) = delete;
  WorkerEvents& operator=(const WorkerEvents&) = delete;

  // The events must outlive the returned subscription.
  [[nodiscard]] Subscription subscribe(Listener listener);
  void publish(const WorkerEnded& event);

 private:
  void unsubscribe(int id);

  std::shared_mutex mu_;  // shared while listeners run; exclusive to change them
  std::map<int, Listener> listeners_;
  int next_id_ = 0;
};

}  // namespace blockyard::proxy
