#include "proxy/resume_registry.h"

#include <gtest/gtest.h>

namespace blockyard::proxy {
namespace {

// The registry holds sessions weakly and never touches them: a pointer owned
// by a stand-in object (never dereferenced) is a session here.
std::shared_ptr<ResilientSession> stand_in() {
  auto owner = std::make_shared<int>(0);
  return std::shared_ptr<ResilientSession>(owner, reinterpret_cast<ResilientSession*>(owner.get()));
}

TEST(ResumeRegistry, AnswersOnlyTheSessionAndAppTheTokenWasIssuedTo) {
  ResumeRegistry registry;
  auto session = stand_in();
  const std::string token = registry.add(session, "route-1", "app-1", "worker-1");
  EXPECT_EQ(registry.find(token, "route-1", "app-1"), session);
  EXPECT_EQ(registry.find(token, "route-2", "app-1"), nullptr);
  EXPECT_EQ(registry.find(token, "route-1", "app-2"), nullptr);
  EXPECT_EQ(registry.find("unknown", "route-1", "app-1"), nullptr);
  session.reset();
  EXPECT_EQ(registry.find(token, "route-1", "app-1"), nullptr) << "held weakly";
}

TEST(ResumeRegistry, AWorkerEndingTakesItsTokensAlong) {
  ResumeRegistry registry;
  auto a1 = stand_in();
  auto a2 = stand_in();
  auto b = stand_in();
  const std::string t1 = registry.add(a1, "r1", "app", "worker-a");
  const std::string t2 = registry.add(a2, "r2", "app", "worker-a");
  const std::string t3 = registry.add(b, "r3", "app", "worker-b");
  EXPECT_EQ(registry.drop_worker("worker-a"), 2u);
  EXPECT_EQ(registry.size(), 1u);
  EXPECT_EQ(registry.find(t1, "r1", "app"), nullptr);
  EXPECT_EQ(registry.find(t2, "r2", "app"), nullptr);
  EXPECT_EQ(registry.find(t3, "r3", "app"), b);
  EXPECT_EQ(registry.drop_worker("worker-a"), 0u);
}

}  // namespace
}  // namespace blockyard::proxy
