#include "backend/process/port_allocator.h"

#include <gtest/gtest.h>

#include <set>
#include <thread>

namespace blockyard::backend::process {
namespace {

// A range unlikely to be used by anything else on the test machine.
constexpr int kFirst = 23100;

TEST(PortAllocator, HandsOutSequentialPortsFromTheStart) {
  PortAllocator ports(kFirst, kFirst + 2);
  auto a = ports.reserve();
  auto b = ports.reserve();
  EXPECT_EQ(a.port(), kFirst);
  EXPECT_EQ(b.port(), kFirst + 1);
  EXPECT_EQ(ports.in_use(), 2);
}

TEST(PortAllocator, ExhaustionThrowsAndNamesTheSize) {
  PortAllocator ports(kFirst, kFirst + 1);
  auto a = ports.reserve();
  auto b = ports.reserve();
  try {
    ports.reserve();
    FAIL() << "expected exhaustion";
  } catch (const std::runtime_error& e) {
    EXPECT_STREQ(e.what(), "process backend: all 2 ports in use");
  }
  EXPECT_EQ(ports.in_use(), 2);
}

TEST(PortAllocator, ReleaseMakesThePortAvailableAgain) {
  PortAllocator ports(kFirst, kFirst + 2);
  auto a = ports.reserve();
  auto b = ports.reserve();
  const int released = a.port();
  a.release();
  a.release();  // idempotent
  EXPECT_EQ(ports.in_use(), 1);
  auto c = ports.reserve();
  EXPECT_EQ(c.port(), released);
}

TEST(PortAllocator, LeaseDestructionReleases) {
  PortAllocator ports(kFirst, kFirst);
  { auto a = ports.reserve(); }
  EXPECT_EQ(ports.in_use(), 0);
  EXPECT_NO_THROW(ports.reserve());
}

TEST(PortAllocator, MovedLeaseReleasesOnce) {
  PortAllocator ports(kFirst, kFirst + 1);
  auto a = ports.reserve();
  PortLease b = std::move(a);
  EXPECT_EQ(a.port(), 0);
  EXPECT_EQ(b.port(), kFirst);
  a.release();
  EXPECT_EQ(ports.in_use(), 1);
  b.release();
  EXPECT_EQ(ports.in_use(), 0);
}

TEST(PortAllocator, SkipsPortsHeldByAnotherListener) {
  UniqueFd foreign = listen_loopback(kFirst);
  ASSERT_TRUE(foreign.valid());
  PortAllocator ports(kFirst, kFirst + 1);
  auto a = ports.reserve();
  EXPECT_EQ(a.port(), kFirst + 1);
  EXPECT_THROW(ports.reserve(), std::runtime_error);
  foreign.reset();  // the skipped port was not marked: usable once free
  auto b = ports.reserve();
  EXPECT_EQ(b.port(), kFirst);
}

TEST(PortAllocator, HeldListenerBlocksOthersUntilClosed) {
  PortAllocator ports(kFirst, kFirst);
  auto a = ports.reserve();
  EXPECT_TRUE(a.holds_listener());
  EXPECT_FALSE(listen_loopback(a.port()).valid());
  a.close_listener();
  EXPECT_TRUE(listen_loopback(a.port()).valid());
  EXPECT_EQ(ports.in_use(), 1);  // closing the socket does not give the port back
}

TEST(PortAllocator, ReversedRangeIsEmpty) {
  PortAllocator ports(kFirst + 5, kFirst);
  EXPECT_EQ(ports.size(), 0);
  EXPECT_THROW(ports.reserve(), std::runtime_error);
}

TEST(PortAllocator, OutOfRangeReleaseIsIgnored) {
  PortAllocator ports(kFirst, kFirst);
  auto a = ports.reserve();
  ports.release(kFirst - 1);
  ports.release(kFirst + 1);
  EXPECT_EQ(ports.in_use(), 1);
}

TEST(PortAllocator, ConcurrentReservationsAreDistinct) {
  PortAllocator ports(kFirst, kFirst + 39);
  std::vector<PortLease> leases(40);
  std::vector<std::thread> threads;
  for (int i = 0; i < 40; ++i) threads.emplace_back([&, i] { leases[i] = ports.reserve(); });
  for (auto& t : threads) t.join();
  std::set<int> seen;
  for (auto& l : leases) seen.insert(l.port());
  EXPECT_EQ(seen.size(), 40u);
  EXPECT_EQ(ports.in_use(), 40);
}

}  // namespace
}  // namespace blockyard::backend::process
