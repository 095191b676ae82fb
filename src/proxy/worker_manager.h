// WorkerManager: the lifecycle of workers, as rules over state kept
// elsewhere. Every user session gets its own worker (one R process per
// session). The manager reserves workers within the capacity limits, starts
// them through the Backend (at most max_concurrent_starts at once, the rest
// wait in a queue), notices when they answer HTTP, keeps pre-warmed workers
// for apps that want them, marks an app's workers draining when its bundle
// changes, stops workers idle for proxy.idle_worker_timeout, and ends every
// worker through one path that publishes the "worker ended" event.
//
// Commitment: a worker belongs to its session for good only once the
// session proves to be a live Shiny client, i.e. its WebSocket connects
// (websocket_opened). Until then anything can have asked for it (curl, a
// crawler, a link preview, an uptime check), so such an uncommitted worker
// is stopped once it has had no open connection for
// proxy.session_commit_grace, at most proxy.max_uncommitted_workers of them
// are kept once their requests end, and a new session that finds the server
// (or its app) full takes the place of the one idle the longest. A committed
// worker whose session's WebSockets are all gone (a resumable one counts
// until its ws_cache_ttl passed) is stopped after the same grace, at once
// when it is draining. Draining workers never count toward an app's limit.
//
// Where the state lives:
//   shared (state/):    sessions (SessionStore), workers (WorkerMap)
//   this process only:  readiness waiters and the spawn queue (here), open
//                       connections per worker (ConnectionCounts), logs and
//                       ended workers for log_retention (WorkerHistory)
//
// Blocking: no public method waits for the backend except shutdown() and
// the API's stop_app_workers(), which return once the processes are gone.
// Spawns, stops and health probes run on the manager's own thread pools;
// its monitor thread only schedules them, and no backend call is ever made
// while the manager's lock is held.
//
// Thread safety: all public methods may be called from any thread.
// Callbacks given to when_spawned()/when_ready() run on a pool thread (or
// the caller's, when the outcome is already known) and must not block.
#pragma once

#include <chrono>
#include <condition_variable>
#include <deque>
#include <functional>
#include <future>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "api/worker_control.h"
#include "auth/browser_sessions.h"
#include "backend/backend.h"
#include "core/config.h"
#include "core/task_pool.h"
#include "proxy/connection_counts.h"
#include "proxy/worker_events.h"
#include "proxy/worker_history.h"
#include "state/session_store.h"
#include "state/worker_map.h"
#include "store/models.h"

namespace blockyard::proxy {

// A request that cannot get a worker: carries the 503 message for the user.
class CapacityError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

enum class WorkerState { starting, ready, draining, failed };
// The API's word for it: starting | active | draining | failed.
const char* to_string(WorkerState state);

struct WorkerView {
  std::string id;
  std::string app_id;
  WorkerState state = WorkerState::starting;
  Endpoint endpoint;    // empty until spawned
  std::string failure;  // why it failed to start
};

// A session just opened, bound to its worker.
struct NewSession {
  std::string session_id;
  WorkerView worker;
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
  // `backend`, `sessions`, `workers` and `config` must outlive the manager.
  // At most `max_concurrent_starts` R processes start at once (0 = one per
  // CPU core, at least 2); further new sessions wait in a queue, so a burst
  // of visitors cannot start more R processes at once than the machine
  // holds. `server_id` names this process in the shared WorkerMap.
  WorkerManager(backend::Backend& backend, state::SessionStore& sessions, state::WorkerMap& workers,
                const Config& config, int max_concurrent_starts = 0, std::string server_id = "");
  ~WorkerManager() override;
  WorkerManager(const WorkerManager&) = delete;
  WorkerManager& operator=(const WorkerManager&) = delete;

  // True when sessions and workers are kept in this process: then calls
  // never wait for I/O and the proxy may make them on its I/O threads.
  bool state_is_local() const;

  // A new session of `app` running `bundle_path`, bound to a worker of its
  // own: a pre-warmed one of that bundle if there is one, else a new one,
  // reserved within the limits and started in the background (see
  // when_spawned). `owner` opened it (empty: anonymous). Throws
  // CapacityError ("server at capacity", "app at capacity", "server is
  // shutting down").
  NewSession open_session(const store::App& app, const std::string& bundle_id,
                          const std::string& bundle_path, const SessionOwner& owner = {});

  // Where the monitor learns which apps want pre-warmed workers (once per
  // second). Pre-warmed workers belong to no session until one claims them;
  // they are exempt from the idle timeout.
  void set_prewarm_source(PrewarmSource source);

  // The worker bound to this session of this app: live, or failed (its
  // failure kept for log_retention); nullopt otherwise, and when the session
  // was opened by another user than `user_sub` ("" = anonymous): a routing
  // cookie of another user finds nothing.
  std::optional<WorkerView> session_worker(const std::string& session_id, const std::string& app_id,
                                           const std::string& user_sub = "");

  // `done(true)` once the backend started the worker (or it waits in the
  // start queue, or it is past that already), `done(false)` if it failed.
  void when_spawned(const std::string& worker_id, std::function<void(bool)> done);
  // `done(true)` once the worker answers HTTP, `done(false)` if it ended first.
  void when_ready(const std::string& worker_id, std::function<void(bool)> done);

  // A session's WebSocket to this worker connected (the worker answered the
  // upgrade): the worker is committed to its session. Never waits for I/O.
  void websocket_opened(const std::string& worker_id);

  // Activity accounting for idle detection.
  void request_started(const std::string& worker_id);
  void request_finished(const std::string& worker_id);

  // Open WebSockets and in-flight requests over all workers (drain waits for 0).
  int open_connections();

  // Subscribes to the "worker ended" event (see worker_events.h).
  [[nodiscard]] WorkerEvents::Subscription on_worker_ended(WorkerEvents::Listener listener);

  // Ends every worker and waits for their processes, stops the monitor and
  // the pools. Later open_session() calls throw CapacityError.
  void shutdown();

  // api::WorkerControl
  std::vector<api::WorkerSummary> workers_for_app(const std::string& app_id) override;
  std::shared_ptr<LineLog> worker_log(const std::string& app_id,
                                      const std::string& worker_id) override;
  void stop_app_workers(const std::string& app_id) override;
  void drain_app_workers(const std::string& app_id) override;

  // auth::AccessListener: the sessions' workers end at once; their processes
  // are stopped on the stop pool (callers never wait for a stop).
  void session_ended(const std::string& sign_in_id) override;
  void user_signed_out(const std::string& sub) override;

 private:
  using Clock = std::chrono::steady_clock;
  struct Starting;
  using Waiter = std::function<void(bool)>;

  void refuse_when_stopping();
  std::string reserve(const store::App& app, const std::string& bundle_id,
                      const std::string& bundle_path, bool prewarmed,
                      const std::string& session_id);
  bool reclaim_uncommitted(const std::string* app_id);
  void request_spawn(const std::string& worker_id);
  void spawn(const std::string& worker_id);
  void probe(const std::string& worker_id);
  void became_ready(const std::string& worker_id);
  void exited(const std::string& worker_id, int exit_code);
  std::shared_future<void> end_worker(const std::string& worker_id, WorkerEnded::How how,
                                      const std::string& reason);
  void end_sessions(const std::map<std::string, state::SessionEntry>& sessions, const char* reason);
  void monitor_loop();
  void check_starting(Clock::time_point now);
  void start_queued();
  void sweep_idle();
  void refill_prewarmed();
  void prune_history();

  backend::Backend& backend_;
  state::SessionStore& sessions_;
  state::WorkerMap& workers_;
  const Config& config_;
  const int max_concurrent_starts_;
  const std::string server_id_;

  WorkerHistory history_;
  ConnectionCounts connections_;
  WorkerEvents events_;
  WorkerEvents::Subscription own_listener_;

  std::mutex mu_;  // guards everything below; never held across a backend call
  std::condition_variable wake_;
  std::map<std::string, std::shared_ptr<Starting>> starting_;  // by worker id
  std::deque<std::string> spawn_queue_;                        // worker ids waiting to spawn
  int spawning_ = 0;  // spawn requested, not yet ready or ended
  std::map<std::string, std::shared_future<void>> stops_;  // backend stops in progress
  PrewarmSource prewarm_source_;
  bool stopping_ = false;

  // Declared last: their threads stop (shutdown) before the state above goes.
  TaskPool spawns_;      // Backend::spawn
  TaskPool probes_;      // Backend::health_check
  TaskPool stops_pool_;  // Backend::stop
  std::thread monitor_;
};

}  // namespace blockyard::proxy
