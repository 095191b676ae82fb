#include "proxy/worker_manager.h"

#include <spdlog/spdlog.h>

#include <algorithm>

#include "bundle/bundle_runtime.h"
#include "core/crypto.h"
#include "proxy/worker_end.h"
#include "store/timestamp.h"

namespace blockyard::proxy {

namespace {

using state::WorkerPhase;
using state::WorkerRecord;
using WallClock = std::chrono::system_clock;

// The R and the restored package library the bundle's build chose
// (reads the bundle's runtime file: not under the manager's lock).
void add_bundle_runtime(backend::WorkerSpec& spec) {
  const auto runtime = bundle::read_bundle_runtime(spec.bundle_path);
  if (!runtime) return;
  spec.r_path = runtime->r_path;
  if (!runtime->has_library()) return;
  spec.mounts.push_back({runtime->store_root, bundle::kPackageStoreMount, true});
  spec.env["R_LIBS"] = std::string(bundle::kPackageStoreMount) + "/.libs/" + runtime->library;
}

WorkerView view_of(const WorkerRecord& r) {
  WorkerView v;
  v.id = r.id;
  v.app_id = r.app_id;
  v.endpoint = r.endpoint;
  v.state = r.phase == WorkerPhase::starting ? WorkerState::starting
            : r.draining                     ? WorkerState::draining
                                             : WorkerState::ready;
  return v;
}

std::shared_future<void> done_future() {
  std::promise<void> p;
  p.set_value();
  return p.get_future().share();
}

void notify(std::vector<std::function<void(bool)>>& waiters, bool outcome) {
  for (auto& w : waiters) w(outcome);
  waiters.clear();
}

}  // namespace

const char* to_string(WorkerState state) {
  switch (state) {
    case WorkerState::starting:
      return "starting";
    case WorkerState::ready:
      return "active";
    case WorkerState::draining:
      return "draining";
    case WorkerState::failed:
      return "failed";
  }
  return "unknown";
}

// A worker of this process between its reservation and its first good health
// probe (or its end): what it takes to start it, and who waits for it.
struct WorkerManager::Starting {
  backend::WorkerSpec spec;
  std::string app_name;
  std::string session_id;        // "" for a pre-warmed worker
  bool spawn_requested = false;  // false while it waits in the spawn queue
  bool spawned = false;          // Backend::spawn returned
  bool probing = false;          // a health probe is in flight
  Clock::time_point deadline;    // worker_start_timeout, from the spawn request
  std::vector<Waiter> on_spawned;
  std::vector<Waiter> on_ready;
};

WorkerManager::WorkerManager(backend::Backend& backend, state::SessionStore& sessions,
                             state::WorkerMap& workers, const Config& config,
                             int max_concurrent_starts, std::string server_id)
    : backend_(backend),
      sessions_(sessions),
      workers_(workers),
      config_(config),
      max_concurrent_starts_(
          max_concurrent_starts > 0
              ? max_concurrent_starts
              : std::max(2, static_cast<int>(std::thread::hardware_concurrency()))),
      server_id_(server_id.empty() ? "local" : std::move(server_id)),
      history_(std::chrono::duration_cast<std::chrono::milliseconds>(config.proxy.log_retention),
               10000),
      own_listener_(events_.subscribe([this](const WorkerEnded& e) {
        // This process's own per-worker state.
        const bool failed = e.how == WorkerEnded::How::failed;
        history_.ended(e.worker_id, end_cause_name(e.how), e.reason, WallClock::now());
        connections_.forget(e.worker_id);
        // A failed worker keeps its session so the loading page can say it
        // failed (until its history entry goes); any other end frees it.
        if (!failed) sessions_.remove_by_worker(e.worker_id);
        // The backend's table: the processes go, off this thread.
        auto stopped = std::make_shared<std::promise<void>>();
        {
          std::lock_guard lock(mu_);
          stops_[e.worker_id] = stopped->get_future().share();
        }
        auto stop = [this, id = e.worker_id, stopped] {
          backend_.stop(id);
          {
            std::lock_guard lock(mu_);
            stops_.erase(id);
          }
          stopped->set_value();
        };
        if (!stops_pool_.post(stop)) stop();  // only once the pool is gone (destruction)
      })),
      spawns_("worker spawns", static_cast<std::size_t>(max_concurrent_starts_)),
      probes_("worker probes", static_cast<std::size_t>(max_concurrent_starts_)),
      stops_pool_("worker stops", 4),
      monitor_([this] { monitor_loop(); }) {}

WorkerManager::~WorkerManager() {
  shutdown();
}

bool WorkerManager::state_is_local() const {
  return sessions_.is_local() && workers_.is_local();
}

WorkerEvents::Subscription WorkerManager::on_worker_ended(WorkerEvents::Listener listener) {
  return events_.subscribe(std::move(listener));
}

// ---- Starting workers ----

void WorkerManager::refuse_when_stopping() {
  std::lock_guard lock(mu_);
  if (stopping_) throw CapacityError("server is shutting down");
}

std::string WorkerManager::reserve(const store::App& app, const std::string& bundle_id,
                                   const std::string& bundle_path, bool prewarmed,
                                   const std::string& session_id) {
  refuse_when_stopping();
  const auto now = WallClock::now();
  WorkerRecord record;
  record.id = uuid_v4();
  record.app_id = app.id;
  record.bundle_id = bundle_id;
  record.server_id = server_id_;
  record.unclaimed = prewarmed;
  record.started_at = now;
  const state::WorkerLimits limits{config_.proxy.max_workers, app.max_workers_per_app};
  // A full server or app first gives up a worker nobody proved to need (a
  // session's: pre-warming never pushes anyone out).
  for (bool added = false; !added;) {
    switch (workers_.add(record, limits)) {
      case state::AddResult::added:
        added = true;
        break;
      case state::AddResult::server_full:
        if (prewarmed || !reclaim_uncommitted(nullptr)) throw CapacityError("server at capacity");
        break;
      case state::AddResult::app_full:
        if (prewarmed || !reclaim_uncommitted(&app.id)) throw CapacityError("app at capacity");
        break;
      case state::AddResult::duplicate:
        throw std::runtime_error("worker id collision: " + record.id);
    }
  }
  connections_.touch(record.id);
  auto starting = std::make_shared<Starting>();
  starting->app_name = app.name;
  starting->session_id = session_id;
  auto& spec = starting->spec;
  spec.worker_id = record.id;
  spec.app_id = app.id;
  spec.bundle_id = bundle_id;
  spec.bundle_path = bundle_path;
  spec.env = config_.server.worker_env;
  spec.memory_limit = app.memory_limit.value_or("");
  spec.cpu_limit = app.cpu_limit.value_or(0.0);
  spec.log = history_.started(record.id, app.id, bundle_id, now);
  spec.on_exit = [this, id = record.id](int code) { exited(id, code); };
  std::lock_guard lock(mu_);
  starting_[record.id] = std::move(starting);
  return record.id;
}

// Ends this server's uncommitted worker (of `app_id`'s non-draining ones,
// when given) that has been without an open connection the longest; false
// when there is none.
bool WorkerManager::reclaim_uncommitted(const std::string* app_id) {
  std::optional<std::string> victim;
  Clock::time_point victim_last{};
  for (const auto& r : workers_.for_server(server_id_)) {
    if (r.phase != WorkerPhase::ready || r.unclaimed || r.committed) continue;
    if (app_id && (r.app_id != *app_id || r.draining)) continue;
    auto activity = connections_.get(r.id);
    if (!activity || activity->open > 0) continue;
    if (!victim || activity->last < victim_last) {
      victim = r.id;
      victim_last = activity->last;
    }
  }
  if (!victim) return false;
  end_worker(*victim, WorkerEnded::How::stopped,
             "its place went to a new session (no WebSocket had connected)");
  return true;
}

void WorkerManager::request_spawn(const std::string& worker_id) {
  {
    std::lock_guard lock(mu_);
    auto it = starting_.find(worker_id);
    if (it == starting_.end()) return;  // ended meanwhile
    auto& s = *it->second;
    if (spawning_ >= max_concurrent_starts_) {
      spawn_queue_.push_back(worker_id);
      spdlog::info("worker {} for app {} queued: {} workers already starting", worker_id,
                   s.app_name, max_concurrent_starts_);
      return;
    }
    ++spawning_;
    s.spawn_requested = true;
    s.deadline = Clock::now() + config_.proxy.worker_start_timeout;
  }
  spawns_.post([this, worker_id] { spawn(worker_id); });
}

void WorkerManager::spawn(const std::string& worker_id) {
  backend::WorkerSpec spec;
  {
    std::lock_guard lock(mu_);
    auto it = starting_.find(worker_id);
    if (it == starting_.end() || stopping_) return;  // ended, or shutting down
    spec = it->second->spec;
  }
  Endpoint endpoint;
  try {
    add_bundle_runtime(spec);
    endpoint = backend_.spawn(spec);
  } catch (const std::exception& e) {
    spdlog::error("worker {} for app {} failed to spawn: {}", worker_id, spec.app_id, e.what());
    end_worker(worker_id, WorkerEnded::How::failed,
               std::string("could not start the sandbox: ") + e.what());
    return;
  }
  if (!workers_.set_endpoint(worker_id, endpoint)) {
    backend_.stop(worker_id);  // ended while it was being spawned
    return;
  }
  std::vector<Waiter> waiters;
  std::string session_id;
  {
    std::lock_guard lock(mu_);
    auto it = starting_.find(worker_id);
    if (it != starting_.end()) {
      it->second->spawned = true;
      waiters = std::move(it->second->on_spawned);
      session_id = it->second->session_id;
    }
  }
  spdlog::info("worker {} starting for app {} (session {})", worker_id, spec.app_id, session_id);
  notify(waiters, true);
  wake_.notify_all();  // probe it now
}

void WorkerManager::probe(const std::string& worker_id) {
  if (backend_.health_check(worker_id)) return became_ready(worker_id);
  std::lock_guard lock(mu_);
  if (auto it = starting_.find(worker_id); it != starting_.end()) it->second->probing = false;
}

void WorkerManager::became_ready(const std::string& worker_id) {
  if (!workers_.set_phase(worker_id, WorkerPhase::starting, WorkerPhase::ready)) return;
  connections_.touch(worker_id);
  std::vector<Waiter> waiters;
  Endpoint endpoint;
  {
    std::lock_guard lock(mu_);
    auto it = starting_.find(worker_id);
    if (it != starting_.end()) {
      waiters = std::move(it->second->on_ready);
      if (it->second->spawn_requested) --spawning_;
      starting_.erase(it);
    }
  }
  if (auto record = workers_.get(worker_id)) endpoint = record->endpoint;
  spdlog::info("worker {} ready on {}", worker_id, endpoint.to_string());
  notify(waiters, true);
  wake_.notify_all();  // a queued worker may start now
}

void WorkerManager::exited(const std::string& worker_id, int exit_code) {
  auto record = workers_.get(worker_id);
  if (!record) return;  // we ended it ourselves
  if (record->phase == WorkerPhase::starting) {
    end_worker(worker_id, WorkerEnded::How::failed,
               "R " + exit_reason(exit_code) + " during start-up");
  } else {
    spdlog::warn("worker {} exited unexpectedly (code {})", worker_id, exit_code);
    end_worker(worker_id, WorkerEnded::How::exited, "R " + exit_reason(exit_code));
  }
}

void WorkerManager::when_spawned(const std::string& worker_id, std::function<void(bool)> done) {
  bool settled = false;  // queued, or spawned already
  {
    std::lock_guard lock(mu_);
    auto it = starting_.find(worker_id);
    if (it != starting_.end()) {
      auto& s = *it->second;
      if (s.spawn_requested && !s.spawned) {
        s.on_spawned.push_back(std::move(done));
        return;
      }
      settled = true;
    }
  }
  done(settled || workers_.get(worker_id).has_value());
}

void WorkerManager::when_ready(const std::string& worker_id, std::function<void(bool)> done) {
  {
    std::lock_guard lock(mu_);
    auto it = starting_.find(worker_id);
    if (it != starting_.end()) {
      it->second->on_ready.push_back(std::move(done));
      return;
    }
  }
  auto record = workers_.get(worker_id);
  done(record && record->phase == WorkerPhase::ready);
}

// ---- Sessions ----

NewSession WorkerManager::open_session(const store::App& app, const std::string& bundle_id,
                                       const std::string& bundle_path, const SessionOwner& owner) {
  refuse_when_stopping();
  const auto now = WallClock::now();
  NewSession session;
  session.session_id = uuid_v4();
  // A pre-warmed worker of the same bundle serves the session at once.
  if (auto claimed = workers_.claim_unclaimed(app.id, bundle_id)) {
    connections_.touch(claimed->id);
    sessions_.set(session.session_id, {claimed->id, app.id, owner.sub, now, owner.sign_in_id});
    spdlog::info("session {} claimed pre-warmed worker {}", session.session_id, claimed->id);
    session.worker = view_of(*claimed);
    return session;
  }
  const std::string worker_id = reserve(app, bundle_id, bundle_path, false, session.session_id);
  sessions_.set(session.session_id, {worker_id, app.id, owner.sub, now, owner.sign_in_id});
  auto record = workers_.get(worker_id);
  if (!record) {
    // Ended in between (shutdown): its session must not outlive it.
    sessions_.remove(session.session_id);
    throw CapacityError("server is shutting down");
  }
  request_spawn(worker_id);
  wake_.notify_all();
  session.worker = view_of(*record);
  return session;
}

std::optional<WorkerView> WorkerManager::session_worker(const std::string& session_id,
                                                        const std::string& app_id,
                                                        const std::string& user_sub) {
  // Asked on every proxied request: the session and the worker record are
  // read in place, not copied out.
  std::string worker_id;
  WallClock::time_point last_access;
  sessions_.visit(session_id, [&](const state::SessionEntry& session) {
    if (session.app_id != app_id || session.user_sub != user_sub) return;
    worker_id = session.worker_id;
    last_access = session.last_access;
  });
  if (worker_id.empty()) return std::nullopt;
  // Last use, to the second (a write per request would buy nothing).
  const auto now = WallClock::now();
  if (now - last_access >= std::chrono::seconds(1)) sessions_.touch(session_id, now);
  std::optional<WorkerView> live;
  const bool running = workers_.visit(worker_id, [&](const WorkerRecord& record) {
    if (record.app_id == app_id) live = view_of(record);
  });
  if (running) return live;
  auto past = history_.find(worker_id);
  if (!past || !past->failed) return std::nullopt;
  WorkerView view;
  view.id = worker_id;
  view.app_id = app_id;
  view.state = WorkerState::failed;
  view.failure = past->failure;
  return view;
}

void WorkerManager::websocket_opened(const std::string& worker_id) {
  auto commit = [this, worker_id] {
    auto record = workers_.get(worker_id);
    if (!record || record->committed) return;
    if (workers_.set_committed(worker_id))
      spdlog::info("worker {} committed: its session's WebSocket connected", worker_id);
  };
  if (state_is_local()) return commit();
  if (!probes_.post(commit)) spdlog::debug("worker {}: not committed (shutting down)", worker_id);
}

void WorkerManager::request_started(const std::string& worker_id) {
  connections_.opened(worker_id);
}

void WorkerManager::request_finished(const std::string& worker_id) {
  connections_.closed(worker_id);
}

int WorkerManager::open_connections() {
  return connections_.total();
}

// ---- Ending workers ----

std::shared_future<void> WorkerManager::end_worker(const std::string& worker_id,
                                                   WorkerEnded::How how,
                                                   const std::string& reason) {
  auto record = workers_.get(worker_id);
  // Removing it from the map is what ends it: exactly one caller succeeds.
  if (!record || !workers_.remove(worker_id)) return done_future();
  std::shared_ptr<Starting> starting;
  {
    std::lock_guard lock(mu_);
    if (auto it = starting_.find(worker_id); it != starting_.end()) {
      starting = std::move(it->second);
      starting_.erase(it);
      if (starting->spawn_requested) --spawning_;
    }
  }
  if (how == WorkerEnded::How::stopped) {
    spdlog::info("stopping worker {} ({})", worker_id, reason);
  } else if (how == WorkerEnded::How::failed) {
    spdlog::warn("worker {} failed to start: {}", worker_id, reason);
  }
  events_.publish(WorkerEnded{worker_id, record->app_id, how, reason});
  if (starting) {
    notify(starting->on_spawned, false);
    notify(starting->on_ready, false);
  }
  wake_.notify_all();  // its start slot is free
  std::lock_guard lock(mu_);
  auto stop = stops_.find(worker_id);
  return stop == stops_.end() ? done_future() : stop->second;
}

void WorkerManager::stop_app_workers(const std::string& app_id) {
  std::vector<std::shared_future<void>> stopped;
  for (const auto& r : workers_.for_app(app_id))
    if (r.server_id == server_id_)
      stopped.push_back(end_worker(r.id, WorkerEnded::How::stopped, "app stopped"));
  for (auto& f : stopped) f.wait();
}

void WorkerManager::end_sessions(const std::map<std::string, state::SessionEntry>& sessions,
                                 const char* reason) {
  // end_worker() hands the process to the stop pool: nobody waits here.
  for (const auto& [id, session] : sessions)
    end_worker(session.worker_id, WorkerEnded::How::stopped, reason);
}

void WorkerManager::session_ended(const std::string& sign_in_id) {
  if (sign_in_id.empty()) return;
  end_sessions(sessions_.for_sign_in(sign_in_id), "its user signed out");
}

void WorkerManager::user_signed_out(const std::string& sub) {
  if (sub.empty()) return;
  end_sessions(sessions_.for_user(sub), "its user's sign-in was ended");
}

void WorkerManager::drain_app_workers(const std::string& app_id) {
  // Sessions are 1:1 with workers, so new sessions already get new workers on
  // the new bundle; draining marks the old ones, which stop once idle.
  workers_.mark_draining(app_id);
}

void WorkerManager::shutdown() {
  {
    std::lock_guard lock(mu_);
    if (stopping_) return;
    stopping_ = true;
  }
  wake_.notify_all();
  if (monitor_.joinable()) monitor_.join();
  // Queued spawns return at once (stopping_); running ones finish first, so
  // every worker this process started is in the map when it is ended below.
  spawns_.shutdown();
  probes_.shutdown();
  std::vector<std::shared_future<void>> stopped;
  for (const auto& r : workers_.for_server(server_id_))
    stopped.push_back(end_worker(r.id, WorkerEnded::How::stopped, "shutdown"));
  for (auto& f : stopped) f.wait();
  stops_pool_.shutdown();
  backend_.stop_all();
}

// ---- The monitor ----

void WorkerManager::monitor_loop() {
  auto last_sweep = Clock::now();
  std::unique_lock lock(mu_);
  while (!stopping_) {
    bool any_starting = false;
    for (const auto& [id, s] : starting_) any_starting = any_starting || s->spawn_requested;
    // A starting worker is probed often: every poll interval is start-up
    // time a waiting user sees (a refused connect costs microseconds).
    wake_.wait_for(lock, any_starting ? std::chrono::milliseconds(10) : std::chrono::seconds(1));
    if (stopping_) break;
    lock.unlock();
    const auto now = Clock::now();
    check_starting(now);
    start_queued();
    if (now - last_sweep >= std::chrono::seconds(1)) {
      sweep_idle();
      refill_prewarmed();
      prune_history();
      last_sweep = now;
    }
    lock.lock();
  }
}

// Schedules a health probe for every spawned worker not being probed, and
// fails those past worker_start_timeout. Never waits for either.
void WorkerManager::check_starting(Clock::time_point now) {
  std::vector<std::string> to_probe, timed_out;
  {
    std::lock_guard lock(mu_);
    for (auto& [id, s] : starting_) {
      if (!s->spawn_requested) continue;
      if (now > s->deadline) {
        timed_out.push_back(id);
      } else if (s->spawned && !s->probing) {
        s->probing = true;
        to_probe.push_back(id);
      }
    }
  }
  for (const auto& id : to_probe) probes_.post([this, id] { probe(id); });
  for (const auto& id : timed_out)
    end_worker(id, WorkerEnded::How::failed,
               start_timeout_reason(std::chrono::duration_cast<std::chrono::milliseconds>(
                   config_.proxy.worker_start_timeout)));
}

void WorkerManager::start_queued() {
  std::vector<std::string> ready_to_spawn;
  {
    std::lock_guard lock(mu_);
    while (!stopping_ && spawning_ < max_concurrent_starts_ && !spawn_queue_.empty()) {
      const std::string id = spawn_queue_.front();
      spawn_queue_.pop_front();
      auto it = starting_.find(id);
      if (it == starting_.end()) continue;  // ended while queued
      ++spawning_;
      it->second->spawn_requested = true;
      it->second->deadline = Clock::now() + config_.proxy.worker_start_timeout;
      ready_to_spawn.push_back(id);
    }
  }
  for (const auto& id : ready_to_spawn) spawns_.post([this, id] { spawn(id); });
}

// Copies each worker's idle time into the shared map and stops the workers
// of sessions that no longer need them (pre-warmed and starting ones
// excepted): after session_commit_grace without a connection (its
// WebSocket never connected, or it went), at once when draining and its
// session's WebSocket went, after idle_worker_timeout in any case, and the
// uncommitted ones beyond max_uncommitted_workers, oldest first.
void WorkerManager::sweep_idle() {
  // A browser opens its WebSocket moments after its page: an uncommitted
  // worker idle for less than this may be one that is about to.
  constexpr auto kSettle = std::chrono::seconds(2);
  const auto now = Clock::now();
  const auto& proxy = config_.proxy;
  const auto grace =
      std::chrono::duration_cast<std::chrono::milliseconds>(proxy.session_commit_grace);
  std::vector<std::pair<std::string, std::string>> to_end;             // id, reason
  std::vector<std::pair<Clock::time_point, std::string>> uncommitted;  // idle: since, id
  int uncommitted_count = 0;
  for (const auto& r : workers_.for_server(server_id_)) {
    if (r.phase != WorkerPhase::ready || r.unclaimed) continue;
    auto activity = connections_.get(r.id);
    if (!activity) continue;
    const bool quiet = activity->open <= 0;
    const auto idle_since = quiet ? std::optional(activity->last_wall) : std::nullopt;
    if (idle_since != r.idle_since) workers_.set_idle_since(r.id, idle_since);
    if (!quiet) continue;
    const auto idle_for = now - activity->last;
    if (r.committed && r.draining) {
      to_end.emplace_back(r.id, "its bundle was replaced and its session's WebSocket closed");
    } else if (idle_for > proxy.session_commit_grace) {
      to_end.emplace_back(r.id, session_gone_reason(r.committed, grace));
    } else if (proxy.idle_worker_timeout.count() > 0 && idle_for > proxy.idle_worker_timeout) {
      to_end.emplace_back(r.id, "idle");
    } else if (!r.committed) {
      ++uncommitted_count;
      if (idle_for >= kSettle) uncommitted.emplace_back(activity->last, r.id);
    }
  }
  std::sort(uncommitted.begin(), uncommitted.end());
  for (const auto& [since, id] : uncommitted) {
    if (uncommitted_count <= proxy.max_uncommitted_workers) break;
    to_end.emplace_back(id, "more than " + std::to_string(proxy.max_uncommitted_workers) +
                                " workers without a WebSocket (proxy.max_uncommitted_workers)");
    --uncommitted_count;
  }
  for (const auto& [id, reason] : to_end) end_worker(id, WorkerEnded::How::stopped, reason);
}

void WorkerManager::set_prewarm_source(PrewarmSource source) {
  std::lock_guard lock(mu_);
  prewarm_source_ = std::move(source);
}

void WorkerManager::refill_prewarmed() {
  PrewarmSource source;
  {
    std::lock_guard lock(mu_);
    source = prewarm_source_;
  }
  if (!source) return;
  std::vector<PrewarmTarget> targets;
  try {
    targets = source();
  } catch (const std::exception& e) {
    spdlog::warn("pre-warm: cannot list apps: {}", e.what());
    return;
  }
  std::map<std::string, const PrewarmTarget*> by_app;
  for (const auto& t : targets) by_app[t.app.id] = &t;
  std::map<std::string, int> have;
  std::vector<std::string> surplus;
  for (const auto& r : workers_.for_server(server_id_)) {
    if (!r.unclaimed) continue;
    auto t = by_app.find(r.app_id);
    const bool wanted = t != by_app.end() && !r.draining && t->second->bundle_id == r.bundle_id &&
                        have[r.app_id] < t->second->app.pre_warmed_sessions;
    if (wanted) {
      ++have[r.app_id];
    } else {
      surplus.push_back(r.id);  // bundle replaced or fewer wanted
    }
  }
  for (const auto& id : surplus)
    end_worker(id, WorkerEnded::How::stopped, "no longer needed as pre-warmed");
  for (const auto& t : targets) {
    for (int n = have[t.app.id]; n < t.app.pre_warmed_sessions; ++n) {
      try {
        request_spawn(reserve(t.app, t.bundle_id, t.bundle_path, true, ""));
      } catch (const CapacityError&) {
        break;  // limits win over pre-warming
      }
    }
  }
}

// Ended workers leave the history after log_retention; a failed worker's
// session (kept for the loading page) goes with it.
void WorkerManager::prune_history() {
  for (const auto& forgotten : history_.prune(WallClock::now()))
    if (forgotten.failed) sessions_.remove_by_worker(forgotten.worker_id);
}

// ---- api::WorkerControl ----

std::vector<api::WorkerSummary> WorkerManager::workers_for_app(const std::string& app_id) {
  std::vector<api::WorkerSummary> live, ended;
  for (const auto& r : workers_.for_app(app_id)) {
    api::WorkerSummary s;
    s.id = r.id;
    s.app_id = r.app_id;
    s.bundle_id = r.bundle_id;
    s.status = to_string(view_of(r).state);
    s.started_at = store::format_rfc3339(r.started_at);
    s.committed = r.committed;
    auto activity = connections_.get(r.id);
    if (!activity || activity->open <= 0)
      s.idle_since = store::format_rfc3339(activity ? activity->last_wall : r.started_at);
    for (const auto& [session_id, entry] : sessions_.for_worker(r.id))
      s.session_ids.push_back(session_id);
    live.push_back(std::move(s));
  }
  for (const auto& h : history_.ended_for_app(app_id)) {
    api::WorkerSummary s;
    s.id = h.worker_id;
    s.app_id = h.app_id;
    s.bundle_id = h.bundle_id;
    s.status = h.failed ? "failed" : "ended";
    s.started_at = store::format_rfc3339(h.started_at);
    s.ended_at = store::format_rfc3339(*h.ended_at);
    s.end_cause = h.cause;
    s.end_reason = h.reason;
    ended.push_back(std::move(s));
  }
  // Sampled without any lock held: reading cgroup and /proc files is slow.
  for (auto& s : live) s.stats = backend_.resource_usage(s.id);
  auto newest_first = [](const auto& a, const auto& b) { return a.started_at > b.started_at; };
  std::sort(live.begin(), live.end(), newest_first);
  std::sort(ended.begin(), ended.end(), newest_first);
  live.insert(live.end(), ended.begin(), ended.end());
  return live;
}

std::shared_ptr<LineLog> WorkerManager::worker_log(const std::string& app_id,
                                                   const std::string& worker_id) {
  auto entry = history_.find(worker_id);
  if (!entry || entry->app_id != app_id) return nullptr;
  return entry->log;
}

}  // namespace blockyard::proxy
