// Shared plumbing of the state conformance suites (session_store_,
// worker_map_ and range_allocator_conformance.h): each suite is written only
// against its interface and parameterised over implementations, the way
// store/store_conformance.h is. An implementation joins by instantiating the
// suite with a harness factory, e.g.
//
//   INSTANTIATE_TEST_SUITE_P(Memory, SessionStoreConformanceTest,
//                            ::testing::Values(Impl<SessionStore>{"memory", make}),
//                            [](const auto& info) { return info.param.name; });
//
// Test-only header.
#pragma once

#include <gtest/gtest.h>

#include <chrono>
#include <functional>
#include <memory>
#include <ostream>
#include <string>

namespace blockyard::state::testing {

// One empty instance of shared state for one test.
template <class Interface>
class Harness {
 public:
  virtual ~Harness() = default;
  // A handle on this harness's state. Every call reaches the same data, as
  // two servers sharing the state would (a Redis implementation opens a
  // second connection; the memory one hands out the same object).
  virtual std::shared_ptr<Interface> open() = 0;
};

template <class Interface>
struct Impl {
  std::string name;  // gtest parameter name, [A-Za-z0-9_] only
  std::function<std::unique_ptr<Harness<Interface>>()> make_harness;
};

template <class Interface>
void PrintTo(const Impl<Interface>& impl, std::ostream* os) {
  *os << impl.name;
}

template <class Interface>
class ConformanceTest : public ::testing::TestWithParam<Impl<Interface>> {
 protected:
  void SetUp() override {
    harness_ = this->GetParam().make_harness();
    state_ = harness_->open();
  }
  Interface& state() { return *state_; }
  // A second handle on the same state (another server).
  std::shared_ptr<Interface> other_handle() { return harness_->open(); }

  std::unique_ptr<Harness<Interface>> harness_;
  std::shared_ptr<Interface> state_;
};

// Whole seconds since the epoch, as every implementation must keep them.
inline std::chrono::system_clock::time_point at_second(long long s) {
  return std::chrono::system_clock::time_point(std::chrono::seconds(s));
}

}  // namespace blockyard::state::testing
