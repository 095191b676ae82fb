// AppResolver: what the first segment of /app/{segment}/ names (an app by id,
// by name, or by a former name kept as a rename alias), with a small cache in
// front of the store, because the proxy asks on every request it forwards.
//
// A cached answer is used only while the store reports no write since it was
// read (Store::change_count) and for at most `max_age`: alias phases change
// with the clock, and other processes may write the database.
//
// Thread safety: resolve() and cached() may be called from any thread.
// Blocking: cached() never touches the store (the proxy calls it on its I/O
// threads); resolve() may, and so runs elsewhere.
// Failure: resolve() throws whatever the store throws; nothing is cached then.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "store/models.h"
#include "store/store.h"

namespace blockyard::proxy {

struct AppRoute {
  std::optional<store::App> app;           // empty: no such app (404)
  std::optional<store::AppAlias> alias;    // set when `segment` was a former name
  std::vector<store::AccessGrant> grants;  // the app's access grants
};

class AppResolver {
 public:
  using Clock = std::chrono::steady_clock;

  // `store` must outlive the resolver. `now` is the clock (tests replace it).
  explicit AppResolver(store::Store& store, Clock::duration max_age = std::chrono::seconds(1),
                       std::function<Clock::time_point()> now = Clock::now);

  // Answers are shared, immutable: the proxy holds one per request without
  // copying the app.
  std::shared_ptr<const AppRoute> resolve(const std::string& segment);
  // The cached answer if one is fresh, else null; never reads the store.
  std::shared_ptr<const AppRoute> cached(const std::string& segment);

 private:
  struct Entry {
    std::shared_ptr<const AppRoute> route;
    std::uint64_t change_count;
    Clock::time_point read_at;
  };
  AppRoute read_store(const std::string& segment);

  // Unknown names are cached too (scanners probe many); the map is emptied
  // when it reaches this size rather than growing without bound.
  static constexpr std::size_t kMaxEntries = 4096;

  store::Store& store_;
  const Clock::duration max_age_;
  const std::function<Clock::time_point()> now_;
  std::mutex mu_;
  std::unordered_map<std::string, Entry> entries_;
};

}  // namespace blockyard::proxy
