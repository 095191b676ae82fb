// Conformance suite for state::SessionStore; see conformance.h. Instantiated
// per implementation (memory_state_test.cc for the memory one).
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <atomic>
#include <optional>
#include <thread>
#include <vector>

#include "state/session_store_conformance.h"

namespace blockyard::state::testing {
namespace {

using ::testing::ElementsAre;
using ::testing::IsEmpty;
using ::testing::Pair;

SessionEntry entry(const std::string& worker, long long last_access = 1000,
                   const std::string& user = "") {
  return SessionEntry{worker, "app-1", user, at_second(last_access), ""};
}

TEST_P(SessionStoreConformanceTest, SetThenGetReturnsEveryField) {
  SessionEntry e{"w1", "app-9", "alice", at_second(1'700'000'000), "signin-9"};
  state().set("s1", e);
  EXPECT_EQ(state().get("s1"), e);
  EXPECT_FALSE(state().get("s2"));
  EXPECT_EQ(other_handle()->get("s1"), e) << "another server sees the session";
}

TEST_P(SessionStoreConformanceTest, VisitShowsTheStoredSessionOrSaysThereIsNone) {
  SessionEntry e{"w1", "app-9", "alice", at_second(1'700'000'000), "signin-9"};
  state().set("s1", e);
  std::optional<SessionEntry> seen;
  EXPECT_TRUE(state().visit("s1", [&](const SessionEntry& stored) { seen = stored; }));
  EXPECT_EQ(seen, e);
  int calls = 0;
  EXPECT_FALSE(state().visit("s2", [&](const SessionEntry&) { ++calls; }));
  EXPECT_EQ(calls, 0);
}

TEST_P(SessionStoreConformanceTest, SetReplacesWithoutDuplicates) {
  state().set("s1", entry("w1"));
  state().set("s1", entry("w2", 2000, "bob"));
  EXPECT_EQ(state().get("s1"), entry("w2", 2000, "bob"));
  EXPECT_EQ(state().count_for_worker("w1"), 0u);
  EXPECT_EQ(state().count_for_worker("w2"), 1u);
}

TEST_P(SessionStoreConformanceTest, TouchMovesOnlyLastAccess) {
  state().set("s1", entry("w1", 1000, "alice"));
  EXPECT_TRUE(state().touch("s1", at_second(5000)));
  EXPECT_EQ(state().get("s1"), entry("w1", 5000, "alice"));
  EXPECT_FALSE(state().touch("missing", at_second(5000)));
  EXPECT_FALSE(state().get("missing")) << "touch never creates a session";
}

TEST_P(SessionStoreConformanceTest, RemoveSaysWhetherThereWasOne) {
  state().set("s1", entry("w1"));
  EXPECT_TRUE(state().remove("s1"));
  EXPECT_FALSE(state().remove("s1"));
  EXPECT_FALSE(state().get("s1"));
}

TEST_P(SessionStoreConformanceTest, RemoveByWorkerTakesOnlyThatWorkersSessions) {
  state().set("a1", entry("wa"));
  state().set("a2", entry("wa"));
  state().set("b1", entry("wb"));
  EXPECT_EQ(state().remove_by_worker("wa"), 2u);
  EXPECT_FALSE(state().get("a1"));
  EXPECT_FALSE(state().get("a2"));
  EXPECT_TRUE(state().get("b1"));
  EXPECT_EQ(state().remove_by_worker("wa"), 0u);
  EXPECT_EQ(state().remove_by_worker("nobody"), 0u);
}

TEST_P(SessionStoreConformanceTest, CountsAndListsByWorker) {
  state().set("a1", entry("wa", 10));
  state().set("a2", entry("wa", 20, "bob"));
  state().set("b1", entry("wb", 30));
  EXPECT_EQ(state().count_for_worker("wa"), 2u);
  EXPECT_EQ(state().count_for_worker("wb"), 1u);
  EXPECT_EQ(state().count_for_worker("wc"), 0u);
  EXPECT_THAT(state().for_worker("wa"),
              ElementsAre(Pair("a1", entry("wa", 10)), Pair("a2", entry("wa", 20, "bob"))));
  EXPECT_THAT(state().for_worker("wc"), IsEmpty());
}

TEST_P(SessionStoreConformanceTest, ListsByUserAndBySignIn) {
  SessionEntry a1{"wa", "app-1", "alice", at_second(10), "signin-a1"};
  SessionEntry a2{"wb", "app-2", "alice", at_second(20), "signin-a2"};
  SessionEntry b1{"wc", "app-1", "bob", at_second(30), "signin-b1"};
  state().set("a1", a1);
  state().set("a2", a2);
  state().set("b1", b1);
  state().set("anon", entry("wd"));
  EXPECT_EQ(state().get("a1"), a1) << "sign_in_id is kept";
  EXPECT_THAT(state().for_user("alice"), ElementsAre(Pair("a1", a1), Pair("a2", a2)));
  EXPECT_THAT(state().for_user("carol"), IsEmpty());
  EXPECT_THAT(state().for_user(""), IsEmpty()) << "anonymous sessions belong to nobody";
  EXPECT_THAT(state().for_sign_in("signin-a2"), ElementsAre(Pair("a2", a2)));
  EXPECT_THAT(state().for_sign_in(""), IsEmpty());
  EXPECT_THAT(other_handle()->for_user("bob"), ElementsAre(Pair("b1", b1)));
}

TEST_P(SessionStoreConformanceTest, SweepIdleRemovesSessionsUsedBeforeTheCutoff) {
  state().set("old", entry("w1", 100));
  state().set("edge", entry("w1", 200));
  state().set("new", entry("w2", 300));
  EXPECT_EQ(state().sweep_idle(at_second(200)), 1u);
  EXPECT_FALSE(state().get("old"));
  EXPECT_TRUE(state().get("edge")) << "last used exactly at the cutoff stays";
  EXPECT_TRUE(state().get("new"));
  state().touch("edge", at_second(400));
  EXPECT_EQ(state().sweep_idle(at_second(350)), 1u);
  EXPECT_TRUE(state().get("edge"));
  EXPECT_FALSE(state().get("new"));
}

TEST_P(SessionStoreConformanceTest, ConcurrentWritersOfDistinctSessionsAllLand) {
  constexpr int kThreads = 8, kEach = 50;
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      auto handle = other_handle();
      for (int i = 0; i < kEach; ++i) {
        const std::string id = "s" + std::to_string(t) + "-" + std::to_string(i);
        handle->set(id, entry("w" + std::to_string(t)));
        if (i % 2 == 1) handle->remove(id);
      }
    });
  }
  for (auto& t : threads) t.join();
  for (int t = 0; t < kThreads; ++t)
    EXPECT_EQ(state().count_for_worker("w" + std::to_string(t)), std::size_t{kEach / 2});
}

}  // namespace
}  // namespace blockyard::state::testing
