// Conformance suite for state::WorkerMap; see conformance.h. Instantiated per
// implementation (memory_state_test.cc for the memory one).
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <atomic>
#include <mutex>
#include <optional>
#include <set>
#include <thread>
#include <vector>

#include "state/worker_map_conformance.h"

namespace blockyard::state::testing {
namespace {

using ::testing::IsEmpty;
using ::testing::UnorderedElementsAre;

WorkerRecord worker(const std::string& id, const std::string& app = "app-1",
                    const std::string& bundle = "b1") {
  WorkerRecord r;
  r.id = id;
  r.app_id = app;
  r.bundle_id = bundle;
  r.server_id = "server-1";
  r.started_at = at_second(1'700'000'000);
  return r;
}

const WorkerLimits kRoomy{100, std::nullopt};

std::vector<std::string> ids_of(const std::vector<WorkerRecord>& records) {
  std::vector<std::string> ids;
  for (const auto& r : records) ids.push_back(r.id);
  return ids;
}

TEST_P(WorkerMapConformanceTest, AddThenGetReturnsEveryField) {
  WorkerRecord r = worker("w1");
  r.endpoint = Endpoint::tcp("127.0.0.1", 10001);
  r.phase = WorkerPhase::ready;
  r.draining = true;
  r.unclaimed = true;
  r.committed = true;
  r.idle_since = at_second(1'700'000'100);
  EXPECT_EQ(state().add(r, kRoomy), AddResult::added);
  EXPECT_EQ(state().get("w1"), r);
  EXPECT_EQ(other_handle()->get("w1"), r) << "another server sees the worker";
  EXPECT_FALSE(state().get("w2"));

  WorkerRecord unix_worker = worker("w2");
  unix_worker.endpoint = Endpoint::unix_socket("/run/blockyard/w2.sock");
  state().add(unix_worker, kRoomy);
  EXPECT_EQ(state().get("w2")->endpoint, unix_worker.endpoint);
}

TEST_P(WorkerMapConformanceTest, VisitShowsTheStoredRecordOrSaysThereIsNone) {
  WorkerRecord r = worker("w1", "app-2", "b7");
  r.endpoint = Endpoint::tcp("127.0.0.1", 10001);
  ASSERT_EQ(state().add(r, kRoomy), AddResult::added);
  ASSERT_TRUE(state().set_phase("w1", WorkerPhase::starting, WorkerPhase::ready));
  std::optional<WorkerRecord> seen;
  EXPECT_TRUE(state().visit("w1", [&](const WorkerRecord& stored) { seen = stored; }));
  ASSERT_TRUE(seen);
  EXPECT_EQ(seen, state().get("w1"));
  EXPECT_EQ(seen->app_id, "app-2");
  EXPECT_EQ(seen->phase, WorkerPhase::ready);
  int calls = 0;
  EXPECT_FALSE(state().visit("w2", [&](const WorkerRecord&) { ++calls; }));
  EXPECT_EQ(calls, 0);
}

TEST_P(WorkerMapConformanceTest, AddRefusesADuplicateIdAndKeepsTheFirst) {
  state().add(worker("w1", "app-1"), kRoomy);
  EXPECT_EQ(state().add(worker("w1", "app-2"), kRoomy), AddResult::duplicate);
  EXPECT_EQ(state().get("w1")->app_id, "app-1");
  EXPECT_EQ(state().count(), 1);
}

TEST_P(WorkerMapConformanceTest, AddEnforcesTheTotalAndPerAppLimits) {
  const WorkerLimits limits{3, 2};
  EXPECT_EQ(state().add(worker("a1", "app-a"), limits), AddResult::added);
  EXPECT_EQ(state().add(worker("a2", "app-a"), limits), AddResult::added);
  EXPECT_EQ(state().add(worker("a3", "app-a"), limits), AddResult::app_full);
  EXPECT_EQ(state().add(worker("b1", "app-b"), limits), AddResult::added);
  EXPECT_EQ(state().add(worker("b2", "app-b"), limits), AddResult::server_full);
  EXPECT_EQ(state().count(), 3);
  EXPECT_EQ(state().count_for_app("app-a"), 2);
  EXPECT_EQ(state().count_for_app("app-b"), 1);
  EXPECT_EQ(state().count_for_app("app-c"), 0);
  EXPECT_FALSE(state().get("a3"));

  EXPECT_TRUE(state().remove("a1"));
  EXPECT_FALSE(state().remove("a1"));
  EXPECT_EQ(state().count_for_app("app-a"), 1);
  EXPECT_EQ(state().add(worker("b2", "app-b"), limits), AddResult::added)
      << "a removed worker frees its place";
  EXPECT_EQ(state().add(worker("a3", "app-a"), WorkerLimits{4, std::nullopt}), AddResult::added)
      << "no per-app limit";
  EXPECT_EQ(state().count(), 4);
}

// Many servers adding at once never exceed the limits: the count and the
// insert are one atomic step.
TEST_P(WorkerMapConformanceTest, ConcurrentAddsNeverExceedTheLimits) {
  constexpr int kThreads = 8, kEach = 20;
  const WorkerLimits limits{25, 10};
  std::atomic<int> added{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      auto handle = other_handle();
      for (int i = 0; i < kEach; ++i) {
        const std::string app = "app-" + std::to_string(i % 3);
        if (handle->add(worker("w" + std::to_string(t) + "-" + std::to_string(i), app), limits) ==
            AddResult::added)
          ++added;
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(added.load(), 25);
  EXPECT_EQ(state().count(), 25);
  int per_app_total = 0;
  for (int a = 0; a < 3; ++a) {
    const int n = state().count_for_app("app-" + std::to_string(a));
    EXPECT_LE(n, 10);
    EXPECT_EQ(n, static_cast<int>(state().for_app("app-" + std::to_string(a)).size()));
    per_app_total += n;
  }
  EXPECT_EQ(per_app_total, 25);
}

TEST_P(WorkerMapConformanceTest, ListsAllByAppAndByServer) {
  WorkerRecord mine = worker("w1", "app-a");
  WorkerRecord theirs = worker("w2", "app-a");
  theirs.server_id = "server-2";
  state().add(mine, kRoomy);
  state().add(theirs, kRoomy);
  state().add(worker("w3", "app-b"), kRoomy);
  EXPECT_THAT(ids_of(state().all()), UnorderedElementsAre("w1", "w2", "w3"));
  EXPECT_THAT(ids_of(state().for_app("app-a")), UnorderedElementsAre("w1", "w2"));
  EXPECT_THAT(ids_of(state().for_app("app-z")), IsEmpty());
  EXPECT_THAT(ids_of(state().for_server("server-1")), UnorderedElementsAre("w1", "w3"));
  EXPECT_THAT(ids_of(state().for_server("server-2")), UnorderedElementsAre("w2"));
}

TEST_P(WorkerMapConformanceTest, FieldUpdatesOnAMissingWorkerCreateNothing) {
  EXPECT_FALSE(state().set_endpoint("ghost", Endpoint::tcp("127.0.0.1", 1)));
  EXPECT_FALSE(state().set_phase("ghost", WorkerPhase::starting, WorkerPhase::ready));
  EXPECT_FALSE(state().set_idle_since("ghost", at_second(1)));
  EXPECT_FALSE(state().get("ghost"));
  EXPECT_EQ(state().count(), 0);
  EXPECT_THAT(state().all(), IsEmpty());
}

TEST_P(WorkerMapConformanceTest, FieldUpdatesChangeOnlyTheirField) {
  WorkerRecord r = worker("w1");
  state().add(r, kRoomy);
  EXPECT_TRUE(state().set_endpoint("w1", Endpoint::tcp("10.0.0.7", 4000)));
  EXPECT_TRUE(state().set_idle_since("w1", at_second(1'700'000'050)));
  r.endpoint = Endpoint::tcp("10.0.0.7", 4000);
  r.idle_since = at_second(1'700'000'050);
  EXPECT_EQ(state().get("w1"), r);
  EXPECT_TRUE(state().set_idle_since("w1", std::nullopt));
  EXPECT_FALSE(state().get("w1")->idle_since);
}

TEST_P(WorkerMapConformanceTest, SetPhaseIsACompareAndSet) {
  state().add(worker("w1"), kRoomy);
  EXPECT_FALSE(state().set_phase("w1", WorkerPhase::ready, WorkerPhase::starting));
  EXPECT_EQ(state().get("w1")->phase, WorkerPhase::starting);
  EXPECT_TRUE(state().set_phase("w1", WorkerPhase::starting, WorkerPhase::ready));
  EXPECT_EQ(state().get("w1")->phase, WorkerPhase::ready);
  EXPECT_FALSE(state().set_phase("w1", WorkerPhase::starting, WorkerPhase::ready))
      << "only one caller wins a transition";
}

TEST_P(WorkerMapConformanceTest, MarkDrainingMarksTheAppsWorkersOnce) {
  state().add(worker("a1", "app-a"), kRoomy);
  state().add(worker("a2", "app-a"), kRoomy);
  state().add(worker("b1", "app-b"), kRoomy);
  EXPECT_THAT(state().mark_draining("app-a"), UnorderedElementsAre("a1", "a2"));
  EXPECT_TRUE(state().get("a1")->draining);
  EXPECT_TRUE(state().get("a2")->draining);
  EXPECT_FALSE(state().get("b1")->draining);
  state().add(worker("a3", "app-a"), kRoomy);
  EXPECT_THAT(state().mark_draining("app-a"), UnorderedElementsAre("a3"));
  EXPECT_THAT(state().mark_draining("app-z"), IsEmpty());
  EXPECT_EQ(state().count_for_app("app-a"), 3) << "draining workers still count";
}

// After a redeploy the old bundle's workers drain: they still take server
// capacity, but the app's limit is for the workers that take new sessions.
TEST_P(WorkerMapConformanceTest, DrainingWorkersDoNotCountTowardTheAppLimit) {
  const WorkerLimits limits{4, 2};
  EXPECT_EQ(state().add(worker("old1", "app-a", "b1"), limits), AddResult::added);
  EXPECT_EQ(state().add(worker("old2", "app-a", "b1"), limits), AddResult::added);
  EXPECT_EQ(state().add(worker("x", "app-a", "b1"), limits), AddResult::app_full);
  state().mark_draining("app-a");
  EXPECT_EQ(state().add(worker("new1", "app-a", "b2"), limits), AddResult::added);
  EXPECT_EQ(state().add(worker("new2", "app-a", "b2"), limits), AddResult::added);
  EXPECT_EQ(state().add(worker("new3", "app-a", "b2"), limits), AddResult::server_full)
      << "draining workers still count toward max_workers";
  EXPECT_EQ(state().count_for_app("app-a"), 4);
  EXPECT_TRUE(state().remove("old1"));
  EXPECT_EQ(state().add(worker("new3", "app-a", "b2"), limits), AddResult::app_full)
      << "removing a draining worker frees server room, not a place in the app";
  EXPECT_TRUE(state().remove("new1"));
  EXPECT_EQ(state().add(worker("new3", "app-a", "b2"), limits), AddResult::added);
}

TEST_P(WorkerMapConformanceTest, SetCommittedMarksOneWorker) {
  state().add(worker("w1"), kRoomy);
  state().add(worker("w2"), kRoomy);
  EXPECT_FALSE(state().get("w1")->committed) << "a new worker is not committed";
  EXPECT_TRUE(state().set_committed("w1"));
  EXPECT_TRUE(state().set_committed("w1")) << "committing twice is harmless";
  EXPECT_TRUE(other_handle()->get("w1")->committed);
  EXPECT_FALSE(state().get("w2")->committed);
  EXPECT_FALSE(state().set_committed("nope"));
  EXPECT_FALSE(state().get("nope"));
}

TEST_P(WorkerMapConformanceTest, AClaimedWorkerIsNotCommitted) {
  WorkerRecord warm = worker("warm");
  warm.unclaimed = true;
  warm.committed = true;  // whatever it was, a new session must still prove itself
  state().add(warm, kRoomy);
  auto claimed = state().claim_unclaimed("app-1", "b1");
  ASSERT_TRUE(claimed);
  EXPECT_FALSE(claimed->committed);
  EXPECT_FALSE(state().get("warm")->committed);
}

TEST_P(WorkerMapConformanceTest, ClaimUnclaimedPrefersReadyAndMatchesAppAndBundle) {
  WorkerRecord starting = worker("starting", "app-a", "b1");
  starting.unclaimed = true;
  WorkerRecord ready = worker("ready", "app-a", "b1");
  ready.unclaimed = true;
  ready.phase = WorkerPhase::ready;
  WorkerRecord old_bundle = worker("old", "app-a", "b0");
  old_bundle.unclaimed = true;
  WorkerRecord claimed = worker("claimed", "app-a", "b1");
  for (const auto& r : {starting, ready, old_bundle, claimed}) state().add(r, kRoomy);

  auto first = state().claim_unclaimed("app-a", "b1");
  ASSERT_TRUE(first);
  EXPECT_EQ(first->id, "ready");
  EXPECT_FALSE(first->unclaimed);
  EXPECT_FALSE(state().get("ready")->unclaimed);
  auto second = state().claim_unclaimed("app-a", "b1");
  ASSERT_TRUE(second);
  EXPECT_EQ(second->id, "starting");
  EXPECT_FALSE(state().claim_unclaimed("app-a", "b1"));
  EXPECT_FALSE(state().claim_unclaimed("app-b", "b1"));
  EXPECT_TRUE(state().get("old")->unclaimed) << "another bundle's worker is not handed out";

  state().mark_draining("app-a");
  EXPECT_FALSE(state().claim_unclaimed("app-a", "b0")) << "a draining worker is not handed out";
}

TEST_P(WorkerMapConformanceTest, EachUnclaimedWorkerGoesToOneCallerOnly) {
  constexpr int kWorkers = 10, kThreads = 8;
  for (int i = 0; i < kWorkers; ++i) {
    WorkerRecord r = worker("w" + std::to_string(i));
    r.unclaimed = true;
    state().add(r, kRoomy);
  }
  std::mutex mu;
  std::multiset<std::string> claimed;
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&] {
      auto handle = other_handle();
      while (auto r = handle->claim_unclaimed("app-1", "b1")) {
        std::lock_guard lock(mu);
        claimed.insert(r->id);
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(claimed.size(), std::size_t{kWorkers});
  EXPECT_EQ(std::set<std::string>(claimed.begin(), claimed.end()).size(), std::size_t{kWorkers});
}

TEST_P(WorkerMapConformanceTest, IdleSinceBeforeListsWorkersIdleAtOrBeforeTheCutoff) {
  state().add(worker("busy"), kRoomy);
  state().add(worker("early"), kRoomy);
  state().add(worker("edge"), kRoomy);
  state().add(worker("late"), kRoomy);
  state().set_idle_since("early", at_second(100));
  state().set_idle_since("edge", at_second(200));
  state().set_idle_since("late", at_second(300));
  EXPECT_THAT(ids_of(state().idle_since_before(at_second(200))),
              UnorderedElementsAre("early", "edge"));
  state().set_idle_since("early", std::nullopt);
  EXPECT_THAT(ids_of(state().idle_since_before(at_second(200))), UnorderedElementsAre("edge"));
  EXPECT_THAT(ids_of(state().idle_since_before(at_second(50))), IsEmpty());
}

}  // namespace
}  // namespace blockyard::state::testing
