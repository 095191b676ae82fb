// The worker manager's rules (capacity, start queue, readiness, failures,
// idle stop, draining, pre-warming, the "worker ended" event, shutdown) over
// the memory state implementations and a backend without processes
// (fake_backend_for_test.h). Waits are bounded polls, never timing claims.
#include "proxy/worker_manager.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <future>
#include <thread>

#include "proxy/fake_backend_for_test.h"
#include "state/memory_session_store.h"
#include "state/memory_worker_map.h"

namespace blockyard::proxy {
namespace {

using namespace std::chrono_literals;
using ::testing::ElementsAre;
using testing::FakeBackend;
using ::testing::IsEmpty;
using ::testing::SizeIs;
using ::testing::UnorderedElementsAre;

// Polls `predicate` until it holds or `timeout` passes.
template <class Predicate>
bool eventually(Predicate predicate, std::chrono::milliseconds timeout = 10s) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (!predicate()) {
    if (std::chrono::steady_clock::now() > deadline) return false;
    std::this_thread::sleep_for(5ms);
  }
  return true;
}

// A callback's outcome, once it is called.
class Outcome {
 public:
  std::function<void(bool)> callback() {
    return [p = promise_](bool ok) { p->set_value(ok); };
  }
  // nullopt when not called within `timeout`.
  std::optional<bool> get(std::chrono::milliseconds timeout = 10s) {
    if (future_.wait_for(timeout) != std::future_status::ready) return std::nullopt;
    return future_.get();
  }

 private:
  std::shared_ptr<std::promise<bool>> promise_ = std::make_shared<std::promise<bool>>();
  std::shared_future<bool> future_ = promise_->get_future().share();
};

store::App make_app(const std::string& id, std::optional<int> max_workers = std::nullopt) {
  store::App app;
  app.id = id;
  app.name = "app-" + id;
  app.active_bundle = "b1";
  app.max_workers_per_app = max_workers;
  return app;
}

class WorkerManagerTest : public ::testing::Test {
 protected:
  WorkerManagerTest() {
    config_.proxy.max_workers = 4;
    config_.proxy.idle_worker_timeout = 1h;
    config_.proxy.worker_start_timeout = 1min;
    config_.proxy.log_retention = 1h;
    config_.proxy.session_commit_grace = 1h;
    config_.proxy.max_uncommitted_workers = 100;
  }
  ~WorkerManagerTest() override {
    if (manager_) manager_->shutdown();
  }

  WorkerManager& manager(int max_starts = 2) {
    if (!manager_) {
      manager_ = std::make_unique<WorkerManager>(backend_, sessions_, map_, config_, max_starts,
                                                 "server-a");
      recorder_ = manager_->on_worker_ended([this](const WorkerEnded& e) {
        std::lock_guard lock(mu_);
        ended_.push_back(e);
      });
    }
    return *manager_;
  }

  NewSession open(const store::App& app, const std::string& bundle = "b1") {
    return manager().open_session(app, bundle, "/bundles/" + app.id + "/" + bundle);
  }

  // Once the backend has the session's worker, it answers; waits until the
  // manager saw it ready.
  void make_ready(const NewSession& s) {
    EXPECT_TRUE(eventually([&] { return backend_.spec_of(s.worker.id).has_value(); }));
    backend_.make_ready(s.worker.id);
    Outcome ready;
    manager().when_ready(s.worker.id, ready.callback());
    EXPECT_EQ(ready.get(), true);
  }

  // Opens a session and waits until its worker is ready.
  NewSession open_ready(const store::App& app) {
    NewSession s = open(app);
    make_ready(s);
    return s;
  }

  // The CapacityError a new session gets, or "" when it opens.
  std::string refusal(const store::App& app, const std::string& bundle = "b1") {
    try {
      open(app, bundle);
      return "";
    } catch (const CapacityError& e) {
      return e.what();
    }
  }

  // A browser's session: its worker is ready and its WebSocket is open.
  NewSession open_live(const store::App& app, const std::string& bundle = "b1") {
    NewSession s = open(app, bundle);
    make_ready(s);
    manager().request_started(s.worker.id);
    manager().websocket_opened(s.worker.id);
    return s;
  }

  std::vector<WorkerEnded> ended() {
    std::lock_guard lock(mu_);
    return ended_;
  }
  std::optional<WorkerEnded> ended_of(const std::string& worker_id) {
    for (const auto& e : ended())
      if (e.worker_id == worker_id) return e;
    return std::nullopt;
  }
  std::vector<std::string> ended_ids() {
    std::vector<std::string> ids;
    for (const auto& e : ended()) ids.push_back(e.worker_id);
    return ids;
  }

  Config config_;
  FakeBackend backend_;
  state::MemorySessionStore sessions_;
  state::MemoryWorkerMap map_;
  std::unique_ptr<WorkerManager> manager_;
  WorkerEvents::Subscription recorder_;
  std::mutex mu_;
  std::vector<WorkerEnded> ended_;
};

TEST_F(WorkerManagerTest, ANewSessionGetsItsOwnWorkerStartedInTheBackground) {
  const store::App app = make_app("a");
  NewSession s = open(app);
  EXPECT_EQ(s.worker.state, WorkerState::starting);
  EXPECT_EQ(map_.count(), 1);
  Outcome spawned;
  manager().when_spawned(s.worker.id, spawned.callback());
  EXPECT_EQ(spawned.get(), true);
  auto spec = backend_.spec_of(s.worker.id);
  ASSERT_TRUE(spec);
  EXPECT_EQ(spec->app_id, "a");
  EXPECT_EQ(spec->bundle_path, "/bundles/a/b1");
  EXPECT_TRUE(spec->log) << "the manager owns the worker's log";

  Outcome ready;
  manager().when_ready(s.worker.id, ready.callback());
  EXPECT_EQ(ready.get(200ms), std::nullopt) << "ready before it answered a probe";
  backend_.make_ready(s.worker.id);
  EXPECT_EQ(ready.get(), true);

  auto view = manager().session_worker(s.session_id, "a");
  ASSERT_TRUE(view);
  EXPECT_EQ(view->state, WorkerState::ready);
  EXPECT_EQ(view->endpoint, backend::Endpoint::tcp("127.0.0.1", 20001));
  EXPECT_FALSE(manager().session_worker(s.session_id, "other-app")) << "cookie of another app";
  EXPECT_NE(open(app).worker.id, s.worker.id) << "every session has a worker of its own";
}

TEST_F(WorkerManagerTest, CapacityLimitsRefuseNewSessionsUntilAWorkerEnds) {
  config_.proxy.max_workers = 3;
  const store::App limited = make_app("a", 2);
  const store::App other = make_app("b");
  open(limited);
  open(limited);
  try {
    open(limited);
    FAIL() << "a third worker for an app limited to 2";
  } catch (const CapacityError& e) {
    EXPECT_STREQ(e.what(), "app at capacity");
  }
  open(other);
  try {
    open(other);
    FAIL() << "a fourth worker on a server limited to 3";
  } catch (const CapacityError& e) {
    EXPECT_STREQ(e.what(), "server at capacity");
  }
  EXPECT_EQ(map_.count(), 3);
  manager().stop_app_workers("a");
  EXPECT_EQ(map_.count(), 1);
  EXPECT_NO_THROW(open(other)) << "the stopped workers' places are free again";
}

TEST_F(WorkerManagerTest, AtMostMaxConcurrentStartsSpawnAtOnceTheRestQueue) {
  const store::App app = make_app("a");
  std::vector<NewSession> s;
  for (int i = 0; i < 4; ++i) s.push_back(open(app));
  EXPECT_TRUE(eventually([&] { return backend_.spawn_calls().size() == 2; }));
  std::this_thread::sleep_for(100ms);
  // The two starts run at once on the spawn pool, in either order.
  EXPECT_THAT(backend_.spawn_calls(), UnorderedElementsAre(s[0].worker.id, s[1].worker.id));
  Outcome queued;
  manager().when_spawned(s[3].worker.id, queued.callback());
  EXPECT_EQ(queued.get(), true) << "a queued worker is accepted at once";

  backend_.make_ready(s[0].worker.id);
  EXPECT_TRUE(eventually([&] { return backend_.spawn_calls().size() == 3; }));
  EXPECT_EQ(backend_.spawn_calls()[2], s[2].worker.id) << "first queued, first started";
  manager().stop_app_workers("a");  // a starting worker ending frees its slot too
  EXPECT_THAT(map_.all(), IsEmpty());
}

TEST_F(WorkerManagerTest, ASpawnFailureFailsTheWaitersAndKeepsTheSessionForTheLoadingPage) {
  backend_.fail_spawns(true);
  const store::App app = make_app("a");
  NewSession s = open(app);
  Outcome spawned, ready;
  manager().when_spawned(s.worker.id, spawned.callback());
  manager().when_ready(s.worker.id, ready.callback());
  EXPECT_EQ(spawned.get(), false);
  EXPECT_EQ(ready.get(), false);
  EXPECT_EQ(map_.count(), 0) << "a failed worker holds no capacity";
  auto view = manager().session_worker(s.session_id, "a");
  ASSERT_TRUE(view);
  EXPECT_EQ(view->state, WorkerState::failed);
  EXPECT_THAT(view->failure, ::testing::HasSubstr("spawn refused"));
  // The waiters may hear of the failure before the event is published.
  ASSERT_TRUE(eventually([&] { return ended().size() == 1; }));
  EXPECT_EQ(ended()[0].how, WorkerEnded::How::failed);
  auto summaries = manager().workers_for_app("a");
  ASSERT_THAT(summaries, SizeIs(1));
  EXPECT_EQ(summaries[0].status, "failed");
}

TEST_F(WorkerManagerTest, AWorkerThatNeverAnswersFailsAtWorkerStartTimeout) {
  config_.proxy.worker_start_timeout = 300ms;
  NewSession s = open(make_app("a"));
  Outcome ready;
  manager().when_ready(s.worker.id, ready.callback());
  EXPECT_EQ(ready.get(), false);
  EXPECT_EQ(manager().session_worker(s.session_id, "a")->failure,
            "the app did not start within 300 ms (proxy.worker_start_timeout)");
  EXPECT_TRUE(eventually([&] { return backend_.table().empty(); })) << "its process is stopped";
}

TEST_F(WorkerManagerTest, AnExitDuringStartUpIsAFailureAndAfterwardsAnEnd) {
  const store::App app = make_app("a");
  NewSession starting = open(app);
  ASSERT_TRUE(eventually([&] { return backend_.spec_of(starting.worker.id).has_value(); }));
  backend_.exit(starting.worker.id, 1);
  Outcome ready;
  manager().when_ready(starting.worker.id, ready.callback());
  EXPECT_EQ(ready.get(), false);
  // The waiters may hear of the failure before its reason is recorded.
  EXPECT_TRUE(eventually([&] {
    const auto view = manager().session_worker(starting.session_id, "a");
    return view && view->failure == "R exited with code 1 during start-up";
  }));

  NewSession running = open_ready(app);
  backend_.exit(running.worker.id, 3);
  ASSERT_TRUE(eventually([&] { return ended().size() == 2; }));
  EXPECT_EQ(ended()[1].how, WorkerEnded::How::exited);
  EXPECT_EQ(ended()[1].reason, "R exited with code 3");
  EXPECT_FALSE(manager().session_worker(running.session_id, "a")) << "its session is gone";
  EXPECT_EQ(sessions_.count_for_worker(running.worker.id), 0u);
  EXPECT_TRUE(eventually([&] { return backend_.table().empty(); }))
      << "the backend's table forgets it";
}

TEST_F(WorkerManagerTest, EveryWorkerEndsExactlyOnceWhateverEndsIt) {
  const store::App app = make_app("a");
  NewSession a = open_ready(app);
  NewSession b = open_ready(app);
  // The fake, like the real backend, reports the exit of a stopped worker too.
  manager().stop_app_workers("a");
  backend_.exit(a.worker.id, 0);
  std::this_thread::sleep_for(100ms);
  EXPECT_THAT(ended_ids(), ::testing::UnorderedElementsAre(a.worker.id, b.worker.id));
  EXPECT_THAT(backend_.stop_calls(), ::testing::UnorderedElementsAre(a.worker.id, b.worker.id));
  for (const auto& e : ended()) {
    EXPECT_EQ(e.how, WorkerEnded::How::stopped);
    EXPECT_EQ(e.reason, "app stopped");
  }
  EXPECT_THAT(backend_.table(), IsEmpty()) << "stop_app_workers returns once they are gone";
}

TEST_F(WorkerManagerTest, ASessionAnswersOnlyItsOwnerAndEndsWithItsSignIn) {
  const store::App app = make_app("a");
  NewSession alice1 = manager().open_session(app, "b1", "/bundles/a/b1", {"alice", "signin-1"});
  NewSession alice2 = manager().open_session(app, "b1", "/bundles/a/b1", {"alice", "signin-2"});
  NewSession bob = manager().open_session(app, "b1", "/bundles/a/b1", {"bob", "signin-3"});
  NewSession anonymous = open(app);
  EXPECT_TRUE(manager().session_worker(alice1.session_id, "a", "alice"));
  EXPECT_FALSE(manager().session_worker(alice1.session_id, "a", "bob")) << "another user's cookie";
  EXPECT_FALSE(manager().session_worker(alice1.session_id, "a")) << "signed out: anonymous";
  EXPECT_FALSE(manager().session_worker(anonymous.session_id, "a", "alice"));
  EXPECT_TRUE(manager().session_worker(anonymous.session_id, "a"));

  manager().session_ended("signin-1");  // sign-out: that sign-in's sessions only
  EXPECT_THAT(ended_ids(), ElementsAre(alice1.worker.id));
  EXPECT_FALSE(manager().session_worker(alice1.session_id, "a", "alice"));
  EXPECT_TRUE(manager().session_worker(alice2.session_id, "a", "alice"));

  manager().user_signed_out("alice");  // deactivated: every session of the user
  EXPECT_THAT(ended_ids(), ElementsAre(alice1.worker.id, alice2.worker.id));
  EXPECT_TRUE(manager().session_worker(bob.session_id, "a", "bob"));
  EXPECT_TRUE(eventually([&] {
    auto stops = backend_.stop_calls();
    return std::count(stops.begin(), stops.end(), alice1.worker.id) > 0 &&
           std::count(stops.begin(), stops.end(), alice2.worker.id) > 0;
  })) << "their processes stop in the background";
  manager().user_signed_out("");  // anonymous sessions belong to no one
  EXPECT_THAT(ended(), SizeIs(2));
}

TEST_F(WorkerManagerTest, AnIdleWorkerIsStoppedAnOpenConnectionKeepsItAlive) {
  config_.proxy.idle_worker_timeout = 300ms;
  const store::App app = make_app("a");
  NewSession busy = open_ready(app);
  NewSession quiet = open_ready(app);
  manager().request_started(busy.worker.id);
  EXPECT_TRUE(eventually([&] { return ended_ids() == std::vector{quiet.worker.id}; }));
  EXPECT_EQ(ended()[0].reason, "idle");
  EXPECT_TRUE(manager().session_worker(busy.session_id, "a"));
  EXPECT_FALSE(manager().session_worker(quiet.session_id, "a"));
  EXPECT_EQ(manager().open_connections(), 1);

  std::this_thread::sleep_for(1500ms);
  EXPECT_THAT(ended(), SizeIs(1)) << "a worker with an open connection is not idle";
  auto workers = manager().workers_for_app("a");
  ASSERT_FALSE(workers.empty());
  EXPECT_FALSE(workers[0].idle_since) << "busy: no idle_since";
  manager().request_finished(busy.worker.id);
  EXPECT_TRUE(eventually([&] { return ended().size() == 2; }));
  EXPECT_EQ(manager().open_connections(), 0);
}

TEST_F(WorkerManagerTest, IdleTimesReachTheSharedMap) {
  const store::App app = make_app("a");
  NewSession s = open_ready(app);
  EXPECT_TRUE(eventually([&] { return map_.get(s.worker.id)->idle_since.has_value(); }));
  manager().request_started(s.worker.id);
  EXPECT_TRUE(eventually([&] { return !map_.get(s.worker.id)->idle_since.has_value(); }));
}

TEST_F(WorkerManagerTest, DrainingWorkersKeepTheirSessionsNewSessionsGetNewWorkers) {
  const store::App app = make_app("a");
  NewSession old_session = open_ready(app);
  manager().drain_app_workers("a");
  auto view = manager().session_worker(old_session.session_id, "a");
  ASSERT_TRUE(view);
  EXPECT_EQ(view->state, WorkerState::draining) << "it still serves its session";
  NewSession fresh = open(app, "b2");
  EXPECT_NE(fresh.worker.id, old_session.worker.id);
  EXPECT_EQ(backend_.spec_of(old_session.worker.id)->bundle_id, "b1");
  auto summaries = manager().workers_for_app("a");
  ASSERT_THAT(summaries, SizeIs(2));
  std::set<std::string> statuses{summaries[0].status, summaries[1].status};
  EXPECT_EQ(statuses, (std::set<std::string>{"draining", "starting"}));
}

TEST_F(WorkerManagerTest, PreWarmedWorkersWaitForSessionsAndAreReplaced) {
  store::App app = make_app("a");
  app.pre_warmed_sessions = 2;
  std::mutex source_mu;
  std::string bundle = "b1";
  manager().set_prewarm_source([&] {
    std::lock_guard lock(source_mu);
    return std::vector<PrewarmTarget>{{app, bundle, "/bundles/a/" + bundle}};
  });
  ASSERT_TRUE(eventually([&] { return map_.count() == 2; }));
  for (const auto& r : map_.all()) {
    EXPECT_TRUE(r.unclaimed);
    ASSERT_TRUE(eventually([&] { return backend_.spec_of(r.id).has_value(); }));
    backend_.make_ready(r.id);
  }
  ASSERT_TRUE(eventually([&] {
    for (const auto& r : map_.all())
      if (r.phase != state::WorkerPhase::ready) return false;
    return true;
  }));
  const auto spawned_before = backend_.spawn_calls().size();
  NewSession s = open(app);
  EXPECT_EQ(s.worker.state, WorkerState::ready) << "a warm worker serves at once";
  EXPECT_FALSE(map_.get(s.worker.id)->unclaimed);
  EXPECT_TRUE(eventually([&] { return map_.count() == 3; })) << "the pool is refilled";
  EXPECT_TRUE(eventually([&] { return backend_.spawn_calls().size() == spawned_before + 1; }))
      << "one new worker spawned (reserved first, spawned on the pool)";

  // A new bundle: the waiting workers of the old one go, new ones come.
  {
    std::lock_guard lock(source_mu);
    bundle = "b2";
  }
  EXPECT_TRUE(eventually([&] {
    int on_new = 0, unclaimed_old = 0;
    for (const auto& r : map_.all()) {
      if (r.unclaimed && r.bundle_id == "b2") ++on_new;
      if (r.unclaimed && r.bundle_id == "b1") ++unclaimed_old;
    }
    return on_new == 2 && unclaimed_old == 0;
  }));
  EXPECT_TRUE(map_.get(s.worker.id)) << "the claimed worker stays with its session";
  for (const auto& e : ended()) EXPECT_EQ(e.reason, "no longer needed as pre-warmed");
}

TEST_F(WorkerManagerTest, PreWarmingStopsAtTheCapacityLimits) {
  config_.proxy.max_workers = 2;
  store::App app = make_app("a");
  app.pre_warmed_sessions = 5;
  manager().set_prewarm_source([&] { return std::vector<PrewarmTarget>{{app, "b1", "/b"}}; });
  ASSERT_TRUE(eventually([&] { return map_.count() == 2; }));
  std::this_thread::sleep_for(1500ms);
  EXPECT_EQ(map_.count(), 2);
}

// The monitor schedules work and never does it: a stop that hangs does not
// delay another worker's readiness, nor idle stops.
TEST_F(WorkerManagerTest, AHangingStopHoldsUpNothingElse) {
  config_.proxy.idle_worker_timeout = 300ms;
  const store::App app = make_app("a");
  const store::App other = make_app("b");
  open_ready(app);
  backend_.hold_stops();
  auto stopping = std::async(std::launch::async, [&] { manager().stop_app_workers("a"); });
  ASSERT_TRUE(eventually([&] { return map_.count_for_app("a") == 0; }));

  make_ready(open(other));
  EXPECT_TRUE(eventually([&] { return map_.count_for_app("b") == 0; }))
      << "the idle worker is still stopped (ended) while another stop hangs";
  EXPECT_EQ(stopping.wait_for(0s), std::future_status::timeout)
      << "stop_app_workers waits for the processes";
  backend_.release_stops();
  stopping.get();
}

// open_session() returns at once while the backend is still spawning.
TEST_F(WorkerManagerTest, ASlowSpawnHoldsUpNeitherTheCallerNorOtherWorkers) {
  config_.proxy.idle_worker_timeout = 300ms;
  const store::App app = make_app("a");
  NewSession running = open_ready(app);
  backend_.hold_spawns();
  auto opened = std::async(std::launch::async, [&] { return open(app); });
  ASSERT_EQ(opened.wait_for(5s), std::future_status::ready);
  NewSession pending = opened.get();
  Outcome spawned;
  manager().when_spawned(pending.worker.id, spawned.callback());
  EXPECT_EQ(spawned.get(200ms), std::nullopt);
  EXPECT_TRUE(eventually([&] { return !map_.get(running.worker.id); }))
      << "the idle sweep still ran";
  backend_.release_spawns();
  EXPECT_EQ(spawned.get(), true);
}

// No backend call is made while the manager's lock is held: from inside
// every backend call, another thread can still use the manager.
TEST_F(WorkerManagerTest, NoBackendCallHoldsTheManagersLock) {
  std::atomic<int> calls{0}, blocked{0};
  backend_.set_during_call([&] {
    ++calls;
    auto probe = std::async(std::launch::async, [&] {
      Outcome unknown;
      manager().when_ready("no-such-worker", unknown.callback());
      manager().when_spawned("no-such-worker", unknown.callback());
      return manager().workers_for_app("none").size();
    });
    if (probe.wait_for(5s) != std::future_status::ready) ++blocked;
  });
  const store::App app = make_app("a");
  NewSession s = open_ready(app);
  manager().stop_app_workers("a");
  EXPECT_GE(calls.load(), 3) << "spawn, health checks and stop were observed";
  EXPECT_EQ(blocked.load(), 0);
  backend_.set_during_call(nullptr);
}

TEST_F(WorkerManagerTest, AFailedWorkersHistoryAndSessionGoAfterLogRetention) {
  config_.proxy.log_retention = 500ms;
  backend_.fail_spawns(true);
  NewSession s = open(make_app("a"));
  ASSERT_TRUE(eventually([&] { return ended().size() == 1; }));
  EXPECT_TRUE(manager().worker_log("a", s.worker.id));
  EXPECT_EQ(sessions_.count_for_worker(s.worker.id), 1u);
  EXPECT_TRUE(eventually([&] { return sessions_.count_for_worker(s.worker.id) == 0; }));
  EXPECT_FALSE(manager().session_worker(s.session_id, "a"));
  EXPECT_FALSE(manager().worker_log("a", s.worker.id));
  EXPECT_THAT(manager().workers_for_app("a"), IsEmpty());
}

TEST_F(WorkerManagerTest, LogsOfEndedWorkersAreKeptForLogRetention) {
  const store::App app = make_app("a");
  NewSession s = open_ready(app);
  backend_.spec_of(s.worker.id)->log->append("hello from R");
  manager().stop_app_workers("a");
  auto log = manager().worker_log("a", s.worker.id);
  ASSERT_TRUE(log);
  EXPECT_THAT(log->tail(10), ElementsAre("hello from R"));
  EXPECT_FALSE(manager().worker_log("other", s.worker.id)) << "only under its own app";
  auto summaries = manager().workers_for_app("a");
  ASSERT_THAT(summaries, SizeIs(1));
  EXPECT_EQ(summaries[0].status, "ended");
  EXPECT_TRUE(summaries[0].ended_at);
}

TEST_F(WorkerManagerTest, ShutdownStopsEveryWorkerAndRefusesNewSessions) {
  const store::App app = make_app("a");
  open_ready(app);
  open(app);
  manager().shutdown();
  EXPECT_THAT(backend_.table(), IsEmpty());
  EXPECT_EQ(map_.count(), 0);
  EXPECT_THAT(ended(), SizeIs(2));
  try {
    open(app);
    FAIL() << "a session during shutdown";
  } catch (const CapacityError& e) {
    EXPECT_STREQ(e.what(), "server is shutting down");
  }
}

// ---- Committing workers to live sessions (issue 11) ----

TEST_F(WorkerManagerTest, AWorkerWhoseWebSocketNeverConnectsIsStoppedAfterTheGrace) {
  config_.proxy.session_commit_grace = 300ms;
  const store::App app = make_app("a");
  NewSession downloading = open_ready(app);
  manager().request_started(downloading.worker.id);  // a long response, still being sent
  NewSession curl = open_ready(app);
  ASSERT_TRUE(eventually([&] { return ended_of(curl.worker.id).has_value(); }));
  EXPECT_EQ(ended_of(curl.worker.id)->reason,
            "no WebSocket connected within 300 ms (proxy.session_commit_grace)");
  EXPECT_EQ(ended_of(curl.worker.id)->how, WorkerEnded::How::stopped);
  EXPECT_FALSE(manager().session_worker(curl.session_id, "a")) << "its session goes with it";
  EXPECT_FALSE(map_.get(curl.worker.id));

  std::this_thread::sleep_for(1500ms);
  EXPECT_FALSE(ended_of(downloading.worker.id)) << "an open request keeps it";
  manager().request_finished(downloading.worker.id);
  EXPECT_TRUE(eventually([&] { return ended_of(downloading.worker.id).has_value(); }));
}

TEST_F(WorkerManagerTest, ALiveSessionKeepsItsWorkerUntilItsWebSocketHasBeenGoneForTheGrace) {
  config_.proxy.session_commit_grace = 300ms;
  const store::App app = make_app("a");
  NewSession browser = open_live(app);
  EXPECT_TRUE(map_.get(browser.worker.id)->committed);
  std::this_thread::sleep_for(1500ms);
  EXPECT_THAT(ended(), IsEmpty()) << "an open WebSocket keeps its worker, however quiet";
  manager().request_finished(browser.worker.id);  // the tab closed (or its resume window passed)
  ASSERT_TRUE(eventually([&] { return ended_of(browser.worker.id).has_value(); }));
  EXPECT_EQ(ended_of(browser.worker.id)->reason,
            "its session's WebSocket closed over 300 ms (proxy.session_commit_grace)");
  EXPECT_FALSE(manager().session_worker(browser.session_id, "a"));
}

TEST_F(WorkerManagerTest, TheWorkerListSaysWhetherAWebSocketReachedTheWorker) {
  const store::App app = make_app("a");
  NewSession curl = open_ready(app);
  auto before = manager().workers_for_app("a");
  ASSERT_THAT(before, SizeIs(1));
  EXPECT_FALSE(before[0].committed) << "no WebSocket yet";
  manager().request_started(curl.worker.id);
  manager().websocket_opened(curl.worker.id);
  auto after = manager().workers_for_app("a");
  ASSERT_THAT(after, SizeIs(1));
  EXPECT_TRUE(after[0].committed);
}

TEST_F(WorkerManagerTest, ACommittedWorkerOutlivesAReload) {
  config_.proxy.session_commit_grace = 2s;
  const store::App app = make_app("a");
  NewSession browser = open_live(app);
  manager().request_finished(browser.worker.id);  // reload: the old WebSocket closes...
  std::this_thread::sleep_for(1200ms);
  manager().request_started(browser.worker.id);  // ...and the new one opens
  std::this_thread::sleep_for(1500ms);
  EXPECT_THAT(ended(), IsEmpty());
  EXPECT_TRUE(manager().session_worker(browser.session_id, "a"));
}

// Symptom 1: five cookieless requests on a server of three workers used to
// hold all three, so the next browser got "server at capacity".
TEST_F(WorkerManagerTest, CookielessSessionsGiveTheirPlaceToNewSessions) {
  config_.proxy.max_workers = 3;
  const store::App app = make_app("a");
  std::vector<NewSession> curls;
  for (int i = 0; i < 5; ++i) {
    ASSERT_NO_THROW(curls.push_back(open_ready(app))) << "curl " << i;
    EXPECT_LE(map_.count(), 3);
  }
  NewSession browser;
  ASSERT_NO_THROW(browser = open(app)) << "a browser after five curls";
  make_ready(browser);
  manager().request_started(browser.worker.id);
  manager().websocket_opened(browser.worker.id);
  EXPECT_EQ(map_.count(), 3);
  // The oldest idle ones gave way, each once, with the reason on record.
  ASSERT_TRUE(ended_of(curls[0].worker.id));
  EXPECT_EQ(ended_of(curls[0].worker.id)->reason,
            "its place went to a new session (no WebSocket had connected)");
  EXPECT_TRUE(ended_of(curls[1].worker.id));
  EXPECT_TRUE(ended_of(curls[2].worker.id));
  EXPECT_FALSE(ended_of(curls[4].worker.id));

  // Live sessions never give way: with three of them the server is full.
  NewSession second = open_live(app);
  NewSession third = open_live(app);
  EXPECT_TRUE(ended_of(curls[3].worker.id));
  EXPECT_TRUE(ended_of(curls[4].worker.id));
  EXPECT_EQ(refusal(app), "server at capacity") << "a fourth session beside three live ones";
  for (const auto& live : {browser, second, third}) EXPECT_FALSE(ended_of(live.worker.id));
}

TEST_F(WorkerManagerTest, AnAppAtItsLimitGivesUpOnlyItsOwnUncommittedWorker) {
  config_.proxy.max_workers = 3;
  const store::App limited = make_app("a", 1);
  const store::App other = make_app("b");
  NewSession other_curl = open_ready(other);
  NewSession curl = open_ready(limited);
  NewSession browser;
  ASSERT_NO_THROW(browser = open(limited));
  EXPECT_TRUE(ended_of(curl.worker.id));
  EXPECT_FALSE(ended_of(other_curl.worker.id)) << "another app's worker frees no place in this one";
  // A starting worker is never taken: its session has not had its chance.
  EXPECT_EQ(refusal(limited), "app at capacity") << "took the place of a worker still starting";
}

TEST_F(WorkerManagerTest, AtMostMaxUncommittedWorkersAreKeptOldestGoFirst) {
  config_.proxy.max_workers = 10;
  config_.proxy.max_uncommitted_workers = 1;
  const store::App app = make_app("a");
  NewSession first = open_ready(app);
  NewSession second = open_ready(app);
  NewSession third = open_ready(app);
  NewSession browser = open_live(app);
  ASSERT_TRUE(eventually([&] { return map_.count() == 2; }));
  EXPECT_TRUE(ended_of(first.worker.id));
  EXPECT_TRUE(ended_of(second.worker.id));
  EXPECT_EQ(ended_of(first.worker.id)->reason,
            "more than 1 workers without a WebSocket (proxy.max_uncommitted_workers)");
  EXPECT_TRUE(map_.get(third.worker.id)) << "the newest uncommitted worker stays";
  EXPECT_TRUE(map_.get(browser.worker.id)) << "a live session is not counted";
  std::this_thread::sleep_for(1500ms);
  EXPECT_EQ(map_.count(), 2);
}

// Symptom 2: after a redeploy the old bundle's workers must not keep the
// new bundle's sessions out, and go once their browsers have.
TEST_F(WorkerManagerTest, DrainingWorkersNeverBlockTheNewBundleAndGoWithTheirSessions) {
  config_.proxy.max_workers = 10;
  const store::App app = make_app("a", 2);
  NewSession old1 = open_live(app);
  NewSession old2 = open_live(app);
  manager().drain_app_workers("a");
  NewSession new1, new2;
  ASSERT_NO_THROW(new1 = open(app, "b2")) << "draining workers counted toward the app's limit";
  ASSERT_NO_THROW(new2 = open(app, "b2"));
  EXPECT_EQ(refusal(app, "b2"), "app at capacity")
      << "a third new-bundle worker with max_workers_per_app = 2";
  manager().request_finished(old1.worker.id);  // its browser left
  ASSERT_TRUE(eventually([&] { return ended_of(old1.worker.id).has_value(); }, 3s));
  EXPECT_EQ(ended_of(old1.worker.id)->reason,
            "its bundle was replaced and its session's WebSocket closed");
  std::this_thread::sleep_for(1200ms);
  EXPECT_FALSE(ended_of(old2.worker.id))
      << "a draining worker with a live browser keeps serving it";
  EXPECT_TRUE(manager().session_worker(old2.session_id, "a"));
}

TEST_F(WorkerManagerTest, AClaimedPreWarmedWorkerMustAlsoCommit) {
  config_.proxy.session_commit_grace = 300ms;
  store::App app = make_app("a");
  app.pre_warmed_sessions = 1;
  std::atomic<bool> warm{true};
  manager().set_prewarm_source([&] {
    return warm ? std::vector<PrewarmTarget>{{app, "b1", "/b"}} : std::vector<PrewarmTarget>{};
  });
  ASSERT_TRUE(eventually([&] { return map_.count() == 1; }));
  const std::string warm_id = map_.all()[0].id;
  backend_.make_ready(warm_id);
  ASSERT_TRUE(eventually([&] { return map_.get(warm_id)->phase == state::WorkerPhase::ready; }));
  std::this_thread::sleep_for(1200ms);
  EXPECT_FALSE(ended_of(warm_id)) << "an unclaimed pre-warmed worker waits for its session";
  NewSession curl = open(app);
  warm = false;
  ASSERT_EQ(curl.worker.id, warm_id);
  EXPECT_TRUE(eventually([&] { return ended_of(warm_id).has_value(); }));
}

}  // namespace
}  // namespace blockyard::proxy
