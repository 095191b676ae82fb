#include "proxy/worker_manager.h"

#include <spdlog/spdlog.h>

#include "core/crypto.h"
#include "store/store.h"

namespace blockyard::proxy {

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
    case WorkerState::ended:
      return "ended";
  }
  return "unknown";
}

struct WorkerManager::Record {
  WorkerView view;
  std::string app_name;
  std::string bundle_id;
  std::string bundle_path;
  std::string memory_limit;  // app setting; "" = the backend default
  double cpu_limit = 0;
  std::string session_id;
  SessionOwner owner;
  bool spawn_requested = false;  // false while waiting in the spawn queue
  bool prewarmed = false;        // started ahead of demand, not yet claimed by a session
  std::string started_at;
  std::optional<std::string> ended_at;
  EndCause end_cause = EndCause::none;
  std::string end_reason;
  Clock::time_point start_deadline;
  Clock::time_point last_activity;
  Clock::time_point ended_time;
  int active_requests = 0;  // in-flight HTTP requests and open WebSockets
  std::string idle_since;   // wall clock, when active_requests last reached 0
  std::vector<std::function<void(bool)>> waiters;
  std::shared_ptr<LineLog> log;

  bool live() const {
    return view.state == WorkerState::starting || view.state == WorkerState::ready ||
           view.state == WorkerState::draining;
  }
};

WorkerManager::WorkerManager(backend::Backend& backend, const Config& config,
                             int max_concurrent_starts)
    : backend_(backend),
      config_(config),
      max_concurrent_starts_(
          max_concurrent_starts > 0
              ? max_concurrent_starts
              : std::max(2, static_cast<int>(std::thread::hardware_concurrency()))),
      monitor_([this] { monitor_loop(); }) {}

WorkerManager::~WorkerManager() {
  shutdown();
}

std::shared_ptr<WorkerManager::Record> WorkerManager::reserve_locked(
    const store::App& app, const std::string& bundle_id, const std::string& bundle_path) {
  if (stopping_) throw CapacityError("server is shutting down");
  int live_total = 0;
  int live_app = 0;
  for (const auto& [id, r] : workers_) {
    if (!r->live()) continue;
    ++live_total;
    if (r->view.app_id == app.id) ++live_app;
  }
  if (live_total >= config_.proxy.max_workers) throw CapacityError("server at capacity");
  if (app.max_workers_per_app && live_app >= *app.max_workers_per_app) {
    throw CapacityError("app at capacity");
  }
  auto record = std::make_shared<Record>();
  record->view.id = uuid_v4();
  record->view.app_id = app.id;
  record->app_name = app.name;
  record->bundle_id = bundle_id;
  record->bundle_path = bundle_path;
  record->memory_limit = app.memory_limit.value_or("");
  record->cpu_limit = app.cpu_limit.value_or(0.0);
  record->started_at = store::now_rfc3339();
  record->last_activity = Clock::now();
  // Reserved before the (slow) spawn so concurrent requests count it.
  workers_[record->view.id] = record;
  record->spawn_requested = spawning_count_locked() < max_concurrent_starts_;
  if (!record->spawn_requested) {
    spawn_queue_.push_back(record->view.id);
    spdlog::info("worker {} for app {} queued: {} workers already starting", record->view.id,
                 app.name, max_concurrent_starts_);
  }
  return record;
}

std::string WorkerManager::start_session_worker(const store::App& app, const std::string& bundle_id,
                                                const std::string& bundle_path,
                                                const std::string& session_id,
                                                const SessionOwner& owner) {
  std::shared_ptr<Record> record;
  {
    std::lock_guard lock(mu_);
    // A pre-warmed worker of the same bundle serves the session at once.
    std::shared_ptr<Record> claim;
    for (const auto& [id, r] : workers_) {
      if (!r->prewarmed || !r->live() || r->view.app_id != app.id || r->bundle_id != bundle_id) {
        continue;
      }
      if (!claim ||
          (r->view.state == WorkerState::ready && claim->view.state != WorkerState::ready)) {
        claim = r;
      }
    }
    if (claim) {
      // Claimed under the lock: the first session gets it, no other ever.
      claim->prewarmed = false;
      claim->session_id = session_id;
      claim->owner = owner;
      claim->last_activity = Clock::now();
      sessions_[session_id] = claim->view.id;
      spdlog::info("session {} claimed pre-warmed worker {}", session_id, claim->view.id);
      return claim->view.id;
    }
    record = reserve_locked(app, bundle_id, bundle_path);
    record->session_id = session_id;
    record->owner = owner;
    sessions_[session_id] = record->view.id;
  }
  if (record->spawn_requested) spawn_record(record, /*rethrow=*/true);
  wake_.notify_all();
  return record->view.id;
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
  std::vector<std::shared_ptr<Record>> to_spawn;
  std::vector<std::string> to_stop;
  {
    std::lock_guard lock(mu_);
    if (stopping_) return;
    std::map<std::string, const PrewarmTarget*> by_app;
    for (const auto& t : targets) by_app[t.app.id] = &t;
    std::map<std::string, int> have;
    for (const auto& [id, r] : workers_) {
      if (!r->prewarmed || !r->live()) continue;
      auto t = by_app.find(r->view.app_id);
      bool wanted = t != by_app.end() && t->second->bundle_id == r->bundle_id &&
                    have[r->view.app_id] < t->second->app.pre_warmed_sessions;
      if (wanted) {
        ++have[r->view.app_id];
      } else {
        to_stop.push_back(id);  // bundle replaced or fewer wanted
      }
    }
    for (const auto& t : targets) {
      for (int n = have[t.app.id]; n < t.app.pre_warmed_sessions; ++n) {
        try {
          auto record = reserve_locked(t.app, t.bundle_id, t.bundle_path);
          record->prewarmed = true;
          if (record->spawn_requested) to_spawn.push_back(record);
        } catch (const CapacityError&) {
          break;  // limits win over pre-warming
        }
      }
    }
  }
  for (const auto& id : to_stop) stop_worker(id, "no longer needed as pre-warmed");
  for (const auto& r : to_spawn) spawn_record(r, /*rethrow=*/false);
}

int WorkerManager::spawning_count_locked() const {
  int n = 0;
  for (const auto& [id, r] : workers_) {
    if (r->view.state == WorkerState::starting && r->spawn_requested) ++n;
  }
  return n;
}

void WorkerManager::spawn_record(const std::shared_ptr<Record>& record, bool rethrow) {
  backend::WorkerSpec spec;
  {
    std::lock_guard lock(mu_);
    record->start_deadline = Clock::now() + config_.proxy.worker_start_timeout;
    spec.worker_id = record->view.id;
    spec.app_id = record->view.app_id;
    spec.bundle_id = record->bundle_id;
    spec.bundle_path = record->bundle_path;
    spec.env = config_.server.worker_env;
    spec.memory_limit = record->memory_limit;
    spec.cpu_limit = record->cpu_limit;
  }
  try {
    auto endpoint = backend_.spawn(spec);
    std::lock_guard lock(mu_);
    record->view.endpoint = endpoint;
    record->log = backend_.logs(record->view.id);
  } catch (const std::exception& e) {
    spdlog::error("worker {} for app {} failed to spawn: {}", record->view.id, record->app_name,
                  e.what());
    std::lock_guard lock(mu_);
    record->log = backend_.logs(record->view.id);
    finish_record(*record, WorkerState::failed, EndCause::failed,
                  std::string("could not start the sandbox: ") + e.what());
    if (rethrow) throw;
    return;
  }
  spdlog::info("worker {} starting for app {} (session {})", record->view.id, record->app_name,
               record->session_id);
}

void WorkerManager::start_queued() {
  while (true) {
    std::shared_ptr<Record> next;
    {
      std::lock_guard lock(mu_);
      if (stopping_ || spawn_queue_.empty()) return;
      if (spawning_count_locked() >= max_concurrent_starts_) return;
      auto id = spawn_queue_.front();
      spawn_queue_.pop_front();
      auto it = workers_.find(id);
      if (it == workers_.end() || it->second->view.state != WorkerState::starting) continue;
      next = it->second;
      next->spawn_requested = true;
    }
    spawn_record(next, /*rethrow=*/false);
  }
}

std::optional<WorkerView> WorkerManager::session_worker(const std::string& session_id,
                                                        const std::string& app_id,
                                                        const std::string& user_sub) {
  std::lock_guard lock(mu_);
  auto s = sessions_.find(session_id);
  if (s == sessions_.end()) return std::nullopt;
  auto w = workers_.find(s->second);
  if (w == workers_.end() || w->second->view.app_id != app_id) return std::nullopt;
  const auto& record = *w->second;
  if (record.owner.sub != user_sub) return std::nullopt;
  if (!record.live() && record.view.state != WorkerState::failed) return std::nullopt;
  return record.view;
}

void WorkerManager::when_ready(const std::string& worker_id, std::function<void(bool)> done) {
  std::unique_lock lock(mu_);
  auto it = workers_.find(worker_id);
  if (it == workers_.end()) {
    lock.unlock();
    done(false);
    return;
  }
  auto& record = *it->second;
  if (record.view.state == WorkerState::starting) {
    record.waiters.push_back(std::move(done));
    return;
  }
  bool ready =
      record.view.state == WorkerState::ready || record.view.state == WorkerState::draining;
  lock.unlock();
  done(ready);
}

void WorkerManager::request_started(const std::string& worker_id) {
  std::lock_guard lock(mu_);
  if (auto it = workers_.find(worker_id); it != workers_.end()) {
    ++it->second->active_requests;
    it->second->last_activity = Clock::now();
  }
}

void WorkerManager::request_finished(const std::string& worker_id) {
  std::lock_guard lock(mu_);
  if (auto it = workers_.find(worker_id); it != workers_.end()) {
    auto& record = *it->second;
    --record.active_requests;
    record.last_activity = Clock::now();
    if (record.active_requests <= 0) record.idle_since = store::now_rfc3339();
  }
}

int WorkerManager::open_connections() {
  std::lock_guard lock(mu_);
  int total = 0;
  for (const auto& [id, r] : workers_) {
    if (r->live()) total += std::max(0, r->active_requests);
  }
  return total;
}

std::vector<std::string> WorkerManager::log_tail(const std::string& worker_id, std::size_t lines) {
  std::shared_ptr<LineLog> log;
  {
    std::lock_guard lock(mu_);
    if (auto it = workers_.find(worker_id); it != workers_.end()) log = it->second->log;
  }
  return log ? log->tail(lines) : std::vector<std::string>{};
}

void WorkerManager::finish_record(Record& record, WorkerState final_state, EndCause cause,
                                  const std::string& reason) {
  // Caller holds mu_.
  record.view.state = final_state;
  record.ended_at = store::now_rfc3339();
  record.ended_time = Clock::now();
  record.end_cause = cause;
  record.end_reason = reason;
  if (cause == EndCause::failed) record.view.failure = reason;
  if (record.log && cause != EndCause::stopped) {
    record.log->append(std::string("[blockyard] worker ") +
                       (cause == EndCause::failed ? "failed to start: " : "ended: ") + reason);
  }
  // A failed worker keeps its session so the loading page can say it failed;
  // the next page load of that session starts a fresh worker.
  if (final_state != WorkerState::failed && !record.session_id.empty()) {
    sessions_.erase(record.session_id);
  }
  auto waiters = std::move(record.waiters);
  record.waiters.clear();
  for (auto& w : waiters) w(false);
}

void WorkerManager::stop_worker(const std::string& worker_id, const char* reason) {
  {
    std::lock_guard lock(mu_);
    auto it = workers_.find(worker_id);
    if (it == workers_.end() || !it->second->live()) return;
    spdlog::info("stopping worker {} ({})", worker_id, reason);
    finish_record(*it->second, WorkerState::ended, EndCause::stopped, reason);
  }
  backend_.stop(worker_id);
}

void WorkerManager::monitor_loop() {
  auto last_sweep = Clock::now();
  std::unique_lock lock(mu_);
  while (!stopping_) {
    bool any_starting = false;
    for (const auto& [id, r] : workers_) {
      if (r->view.state == WorkerState::starting) any_starting = true;
    }
    // A starting worker is probed often: every poll interval is start-up
    // time a waiting user sees (a refused connect costs microseconds).
    wake_.wait_for(lock, any_starting ? std::chrono::milliseconds(10) : std::chrono::seconds(1));
    if (stopping_) break;
    lock.unlock();
    {
      // Destroyed before mu_ is taken again: a waiter may hold the last
      // reference to a request whose destructor calls back into this class.
      std::vector<std::function<void()>> notifications;
      check_starting(notifications);
      for (auto& n : notifications) n();
    }
    start_queued();
    std::vector<std::string> stops;
    {
      std::lock_guard guard(mu_);
      stops.swap(pending_stops_);
    }
    for (const auto& id : stops) backend_.stop(id);
    if (Clock::now() - last_sweep >= std::chrono::seconds(1)) {
      sweep_idle_and_exited();
      refill_prewarmed();
      last_sweep = Clock::now();
    }
    lock.lock();
  }
}

void WorkerManager::check_starting(std::vector<std::function<void()>>& notifications) {
  std::vector<std::string> starting;
  {
    std::lock_guard lock(mu_);
    for (const auto& [id, r] : workers_) {
      if (r->view.state == WorkerState::starting && r->view.endpoint.port != 0) {
        starting.push_back(id);
      }
    }
  }
  for (const auto& id : starting) {
    bool healthy = backend_.health_check(id);
    auto status = backend_.status(id);
    bool exited = status && !status->running;
    std::lock_guard lock(mu_);
    auto it = workers_.find(id);
    if (it == workers_.end() || it->second->view.state != WorkerState::starting) continue;
    auto& record = *it->second;
    if (healthy) {
      record.view.state = WorkerState::ready;
      record.last_activity = Clock::now();
      spdlog::info("worker {} ready on {}", id, record.view.endpoint.to_string());
      auto waiters = std::move(record.waiters);
      record.waiters.clear();
      for (auto& w : waiters) notifications.push_back([w = std::move(w)] { w(true); });
    } else if (exited || Clock::now() > record.start_deadline) {
      const auto timeout =
          std::chrono::duration_cast<std::chrono::seconds>(config_.proxy.worker_start_timeout);
      const std::string reason = exited ? "R " + exit_reason(status->exit_code) + " during start-up"
                                        : start_timeout_reason(timeout.count());
      spdlog::warn("worker {} failed to start: {}", id, reason);
      auto waiters = std::move(record.waiters);
      record.waiters.clear();
      finish_record(record, WorkerState::failed, EndCause::failed, reason);
      for (auto& w : waiters) notifications.push_back([w = std::move(w)] { w(false); });
      notifications.push_back([this, id] { backend_.stop(id); });
    }
  }
}

void WorkerManager::sweep_idle_and_exited() {
  std::vector<std::string> idle;
  std::vector<std::string> forget;
  auto now = Clock::now();
  {
    std::lock_guard lock(mu_);
    for (auto& [id, r] : workers_) {
      if (r->live() && r->view.state != WorkerState::starting) {
        auto status = backend_.status(id);
        if (status && !status->running) {
          spdlog::warn("worker {} exited unexpectedly (code {})", id, status->exit_code);
          finish_record(*r, WorkerState::ended, EndCause::exited,
                        "R " + exit_reason(status->exit_code));
          continue;
        }
        if (!r->prewarmed && r->active_requests <= 0 &&
            now - r->last_activity > config_.proxy.idle_worker_timeout) {
          idle.push_back(id);
        }
      } else if (!r->live() && now - r->ended_time > config_.proxy.log_retention) {
        forget.push_back(id);
      }
    }
    for (const auto& id : forget) {
      auto it = workers_.find(id);
      auto session = sessions_.find(it->second->session_id);
      if (session != sessions_.end() && session->second == id) sessions_.erase(session);
      workers_.erase(it);
    }
  }
  for (const auto& id : idle) stop_worker(id, "idle");
}

void WorkerManager::shutdown() {
  {
    std::lock_guard lock(mu_);
    if (stopping_) return;
    stopping_ = true;
    for (auto& [id, r] : workers_) {
      if (r->live()) finish_record(*r, WorkerState::ended, EndCause::stopped, "server shutdown");
    }
  }
  wake_.notify_all();
  if (monitor_.joinable()) monitor_.join();
  backend_.stop_all();
}

std::vector<api::WorkerSummary> WorkerManager::workers_for_app(const std::string& app_id) {
  std::vector<api::WorkerSummary> live;
  std::vector<api::WorkerSummary> ended;
  {
    std::lock_guard lock(mu_);
    for (const auto& [id, r] : workers_) {
      if (r->view.app_id != app_id) continue;
      api::WorkerSummary s;
      s.id = id;
      s.app_id = app_id;
      s.bundle_id = r->bundle_id;
      s.status = to_string(r->view.state);
      s.started_at = r->started_at;
      s.ended_at = r->ended_at;
      s.end_cause = to_string(r->end_cause);
      s.end_reason = r->end_reason;
      if (r->live()) {
        if (r->active_requests <= 0)
          s.idle_since = r->idle_since.empty() ? r->started_at : r->idle_since;
        if (!r->session_id.empty()) s.session_ids.push_back(r->session_id);
        live.push_back(std::move(s));
      } else {
        ended.push_back(std::move(s));
      }
    }
  }
  // Sampled outside the lock: reading cgroup and /proc files is slow.
  for (auto& s : live) s.stats = backend_.resource_usage(s.id);
  auto newest_first = [](const auto& a, const auto& b) { return a.started_at > b.started_at; };
  std::sort(live.begin(), live.end(), newest_first);
  std::sort(ended.begin(), ended.end(), newest_first);
  live.insert(live.end(), ended.begin(), ended.end());
  return live;
}

std::shared_ptr<LineLog> WorkerManager::worker_log(const std::string& app_id,
                                                   const std::string& worker_id) {
  std::lock_guard lock(mu_);
  auto it = workers_.find(worker_id);
  if (it == workers_.end() || it->second->view.app_id != app_id) return nullptr;
  return it->second->log;
}

void WorkerManager::stop_app_workers(const std::string& app_id) {
  std::vector<std::string> ids;
  {
    std::lock_guard lock(mu_);
    for (const auto& [id, r] : workers_) {
      if (r->view.app_id == app_id && r->live()) ids.push_back(id);
    }
  }
  for (const auto& id : ids) stop_worker(id, "app stopped");
}

void WorkerManager::stop_owned_workers(const std::function<bool(const SessionOwner&)>& owned,
                                       const char* reason) {
  {
    std::lock_guard lock(mu_);
    for (auto& [id, r] : workers_) {
      if (!r->live() || !owned(r->owner)) continue;
      spdlog::info("stopping worker {} ({})", id, reason);
      finish_record(*r, WorkerState::ended, EndCause::stopped, reason);
      pending_stops_.push_back(id);
    }
  }
  wake_.notify_all();
}

void WorkerManager::session_ended(const std::string& sign_in_id) {
  if (sign_in_id.empty()) return;
  stop_owned_workers([&](const SessionOwner& o) { return o.sign_in_id == sign_in_id; },
                     "its user signed out");
}

void WorkerManager::user_signed_out(const std::string& sub) {
  if (sub.empty()) return;
  stop_owned_workers([&](const SessionOwner& o) { return o.sub == sub; },
                     "its user's sign-in was ended");
}

void WorkerManager::drain_app_workers(const std::string& app_id) {
  // Sessions are 1:1 with workers, so new sessions already get new workers on
  // the new bundle; draining marks the old ones so they stop once idle.
  std::lock_guard lock(mu_);
  for (auto& [id, r] : workers_) {
    if (r->view.app_id == app_id && r->view.state == WorkerState::ready) {
      r->view.state = WorkerState::draining;
    }
  }
}

}  // namespace blockyard::proxy
