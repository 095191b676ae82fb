#include "proxy/resume_registry.h"

#include "core/crypto.h"

namespace blockyard::proxy {

std::string ResumeRegistry::add(std::weak_ptr<ResilientSession> session, std::string route_session,
                                std::string app_id, std::string worker_id) {
  std::lock_guard lock(mu_);
  for (;;) {
    std::string token = base62_encode(random_bytes(18));
    if (entries_.contains(token)) continue;  // 144 random bits: never in practice
    entries_.emplace(token, Entry{std::move(session), std::move(route_session), std::move(app_id),
                                  std::move(worker_id)});
    return token;
  }
}

std::shared_ptr<ResilientSession> ResumeRegistry::find(std::string_view token,
                                                       std::string_view route_session,
                                                       std::string_view app_id) {
  std::lock_guard lock(mu_);
  auto it = entries_.find(token);
  if (it == entries_.end()) return nullptr;
  if (!constant_time_equal(it->second.route_session, route_session) ||
      it->second.app_id != app_id) {
    return nullptr;
  }
  return it->second.session.lock();
}

void ResumeRegistry::remove(const std::string& token) {
  std::lock_guard lock(mu_);
  entries_.erase(token);
}

std::size_t ResumeRegistry::drop_worker(const std::string& worker_id) {
  std::lock_guard lock(mu_);
  return std::erase_if(entries_, [&](const auto& e) { return e.second.worker_id == worker_id; });
}

std::size_t ResumeRegistry::size() {
  std::lock_guard lock(mu_);
  return entries_.size();
}

}  // namespace blockyard::proxy
