#include "proxy/app_resolver.h"

#include "core/crypto.h"

namespace blockyard::proxy {

AppResolver::AppResolver(store::Store& store, Clock::duration max_age,
                         std::function<Clock::time_point()> now)
    : store_(store), max_age_(max_age), now_(std::move(now)) {}

std::shared_ptr<const AppRoute> AppResolver::cached(const std::string& segment) {
  const std::uint64_t changes = store_.change_count();
  const Clock::time_point now = now_();
  std::lock_guard lock(mu_);
  auto it = entries_.find(segment);
  if (it != entries_.end() && it->second.change_count == changes &&
      now - it->second.read_at < max_age_) {
    return it->second.route;
  }
  return nullptr;
}

std::shared_ptr<const AppRoute> AppResolver::resolve(const std::string& segment) {
  // Read the counter before the store: a write that lands in between makes
  // the entry look stale at once, never fresh when it is not.
  const std::uint64_t changes = store_.change_count();
  const Clock::time_point now = now_();
  if (auto hit = cached(segment)) return hit;
  auto route = std::make_shared<const AppRoute>(read_store(segment));
  std::lock_guard lock(mu_);
  if (entries_.size() >= kMaxEntries) entries_.clear();
  entries_.insert_or_assign(segment, Entry{route, changes, now});
  return route;
}

AppRoute AppResolver::read_store(const std::string& segment) {
  AppRoute route;
  route.app = is_uuid(segment) ? store_.get_app(segment) : store_.get_app_by_name(segment);
  if (!route.app) {
    route.alias = store_.find_alias(segment, store::now_rfc3339());
    if (route.alias) route.app = store_.get_app(route.alias->app_id);
  }
  if (route.app) route.grants = store_.list_access(route.app->id);
  return route;
}

}  // namespace blockyard::proxy
