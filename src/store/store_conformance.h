// The Store conformance suite: behaviour every Store implementation must
// show, written only against the abstract interface. An implementation joins
// by instantiating it with a harness factory, e.g.
//
//   INSTANTIATE_TEST_SUITE_P(Sqlite, StoreConformanceTest,
//                            ::testing::Values(StoreImpl{"sqlite", make_sqlite_harness}),
//                            [](const auto& info) { return info.param.name; });
//
// Test-only header (used by *_test.cc files).
#pragma once

#include <gtest/gtest.h>

#include <functional>
#include <memory>
#include <optional>
#include <ostream>
#include <string>

#include "store/store.h"
#include "store/store_error.h"

namespace blockyard::store::testing {

// One empty database for one test.
class StoreHarness {
 public:
  virtual ~StoreHarness() = default;
  // Opens a connection to this harness's database; every call reaches the
  // same data, so a test can close and reopen to check persistence.
  virtual std::unique_ptr<Store> open() = 0;
};

struct StoreImpl {
  std::string name;  // gtest parameter name, [A-Za-z0-9_] only
  std::function<std::unique_ptr<StoreHarness>()> make_harness;
};

inline void PrintTo(const StoreImpl& impl, std::ostream* os) {
  *os << impl.name;
}

// Runs `body` and returns the kind of the StoreError it throws (nullopt if none).
template <typename Body>
std::optional<StoreErrorKind> error_of(Body&& body) {
  try {
    body();
  } catch (const StoreError& e) {
    return e.kind();
  }
  return std::nullopt;
}

inline constexpr auto kNotFound = StoreErrorKind::not_found;
inline constexpr auto kConflict = StoreErrorKind::conflict;
inline constexpr auto kNameReserved = StoreErrorKind::name_reserved;

class StoreConformanceTest : public ::testing::TestWithParam<StoreImpl> {
 protected:
  void SetUp() override {
    harness_ = GetParam().make_harness();
    store_ = harness_->open();
  }
  void reopen() {
    store_.reset();
    store_ = harness_->open();
  }
  Store& store() { return *store_; }

  std::unique_ptr<StoreHarness> harness_;
  std::unique_ptr<Store> store_;
};

}  // namespace blockyard::store::testing
