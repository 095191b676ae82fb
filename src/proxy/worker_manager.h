// WorkerManager: the data plane's view of workers and sessions.
//
// Every user session gets its own worker (one R process per session). The
// manager starts workers through the Backend, watches them become ready
// (health checks on its monitor thread), stops workers nobody has used for
// proxy.idle_worker_timeout, and keeps ended workers' logs for
// proxy.log_retention. It also implements api::WorkerControl for the API.
//
// Thread safety: all public methods may be called from any thread. Callbacks
// passed to when_ready() run on the monitor thread (or the caller's, when the
// outcome is already known) and must not block.
#pragma once

#include <chrono>
#include <condition_variable>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "api/worker_control.h"
#include "auth/browser_sessions.h"
#include "backend/backend.h"
#include "core/config.h"
#include "proxy/worker_end.h"
#include "store/models.h"

namespace blockyard::proxy {

// A request that cannot get a worker: carries the 503 message for the user.
class CapacityError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

enum class WorkerState { starting, ready, draining, failed, ended };
const char* to_string(WorkerState state);

struct WorkerView {
  std::string id;
  std::string app_id;
  WorkerState state = WorkerState::starting;
  backend::Endpoint endpoint;
  std::string failure;  // why it failed to start (for the publisher)
};

// An app that wants pre-warmed workers, and the bundle they should run.
struct PrewarmTarget {
  store::App app;  // app.pre_warmed_sessions > 0
  std::string bundle_id;
  std::string bundle_path;
};
using PrewarmSource = std::function<std::vector<PrewarmTarget>()>;

// Who opened a session: its routing cookie is honoured only for the same
// user, and its worker stops when that sign-in ends. Empty for anonymous
// visitors (and everyone without [oidc]).
struct SessionOwner {
  std::string sub;
  std::string sign_in_id;  // the browser session's store id (auth::Caller::session_id)
};

// It also ends the app sessions of a sign-in that ends (sign-out, expiry,
// refused refresh) and of a deactivated user (auth::AccessListener): their
// workers stop, which closes their WebSockets.
class WorkerManager : public api::WorkerControl, public auth::AccessListener {
 public:
  // At most `max_concurrent_starts` R processes start at once (0 = one per
  // CPU core, at least 2); further new sessions wait in a queue, so a burst
  // of visitors cannot start more R processes at once than the machine holds.
  WorkerManager(backend::Backend& backend, const Config& config, int max_concurrent_starts = 0);
  ~WorkerManager() override;
  WorkerManager(const WorkerManager&) = delete;
  WorkerManager& operator=(const WorkerManager&) = delete;

  // Starts a worker for a new session of `app` running `bundle_path`, and binds
  // the session to it. Returns the worker id. Throws CapacityError when the
  // global or per-app worker limit is reached, std::runtime_error when the
  // backend cannot start the process.
  std::string start_session_worker(const store::App& app, const std::string& bundle_id,
                                   const std::string& bundle_path, const std::string& session_id,
                                   const SessionOwner& owner = {});

  // Where the monitor learns which apps want pre-warmed workers (once per
  // second). Pre-warmed workers belong to no session until one claims them;
  // they are exempt from the idle timeout.
  void set_prewarm_source(PrewarmSource source);

  // The live worker bound to this session of this app, if the session was
  // opened by `user_sub` ("" = anonymous); a routing cookie of another user
  // finds nothing.
  std::optional<WorkerView> session_worker(const std::string& session_id, const std::string& app_id,
                                           const std::string& user_sub = "");

  // Calls `done(ready)` once the worker is ready (true) or has failed (false).
  void when_ready(const std::string& worker_id, std::function<void(bool)> done);

  // Activity accounting for idle detection.
  void request_started(const std::string& worker_id);
  void request_finished(const std::string& worker_id);

  // Open WebSockets and in-flight requests over all workers (drain waits for 0).
  int open_connections();

  std::vector<std::string> log_tail(const std::string& worker_id, std::size_t lines);

  // Stops every worker (shutdown) and the monitor thread.
  void shutdown();

  // api::WorkerControl
  std::vector<api::WorkerSummary> workers_for_app(const std::string& app_id) override;
  std::shared_ptr<LineLog> worker_log(const std::string& app_id,
                                      const std::string& worker_id) override;
  void stop_app_workers(const std::string& app_id) override;
  void drain_app_workers(const std::string& app_id) override;

  // auth::AccessListener: the workers are stopped by the monitor thread
  // (callers never wait for a stop).
  void session_ended(const std::string& sign_in_id) override;
  void user_signed_out(const std::string& sub) override;

 private:
  using Clock = std::chrono::steady_clock;
  struct Record;

  void monitor_loop();
  void check_starting(std::vector<std::function<void()>>& notifications);
  void sweep_idle_and_exited();
  void stop_worker(const std::string& worker_id, const char* reason);
  void stop_owned_workers(const std::function<bool(const SessionOwner&)>& owned,
                          const char* reason);
  // Ends the record: `cause` and `reason` say how (the API, the app status),
  // and a last line in the worker's log says so for `by logs`.
  void finish_record(Record& record, WorkerState final_state, EndCause cause,
                     const std::string& reason);
  void spawn_record(const std::shared_ptr<Record>& record, bool rethrow);
  void start_queued();
  void refill_prewarmed();
  std::shared_ptr<Record> reserve_locked(const store::App& app, const std::string& bundle_id,
                                         const std::string& bundle_path);
  int spawning_count_locked() const;

  backend::Backend& backend_;
  const Config& config_;
  const int max_concurrent_starts_;

  std::mutex mu_;
  std::condition_variable wake_;
  std::map<std::string, std::shared_ptr<Record>> workers_;  // by worker id
  std::map<std::string, std::string> sessions_;             // session id -> worker id
  std::deque<std::string> spawn_queue_;                     // worker ids waiting to spawn
  std::vector<std::string> pending_stops_;                  // ended by sign-out, for the monitor
  PrewarmSource prewarm_source_;
  bool stopping_ = false;
  std::thread monitor_;
};

}  // namespace blockyard::proxy
