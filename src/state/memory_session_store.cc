#include "state/memory_session_store.h"

namespace blockyard::state {

std::optional<SessionEntry> MemorySessionStore::get(const std::string& id) {
  std::lock_guard lock(mu_);
  auto it = sessions_.find(id);
  if (it == sessions_.end()) return std::nullopt;
  return it->second;
}

bool MemorySessionStore::visit(const std::string& id,
                               const std::function<void(const SessionEntry&)>& read) {
  std::lock_guard lock(mu_);
  auto it = sessions_.find(id);
  if (it == sessions_.end()) return false;
  read(it->second);
  return true;
}

void MemorySessionStore::set(const std::string& id, const SessionEntry& entry) {
  std::lock_guard lock(mu_);
  sessions_.insert_or_assign(id, entry);
}

bool MemorySessionStore::touch(const std::string& id, Time now) {
  std::lock_guard lock(mu_);
  auto it = sessions_.find(id);
  if (it == sessions_.end()) return false;
  it->second.last_access = now;
  return true;
}

bool MemorySessionStore::remove(const std::string& id) {
  std::lock_guard lock(mu_);
  return sessions_.erase(id) > 0;
}

template <class Predicate>
std::size_t MemorySessionStore::remove_if(Predicate&& predicate) {
  std::lock_guard lock(mu_);
  return std::erase_if(sessions_, [&](const auto& item) { return predicate(item.second); });
}

std::size_t MemorySessionStore::remove_by_worker(const std::string& worker_id) {
  return remove_if([&](const SessionEntry& e) { return e.worker_id == worker_id; });
}

std::size_t MemorySessionStore::count_for_worker(const std::string& worker_id) {
  std::lock_guard lock(mu_);
  std::size_t n = 0;
  for (const auto& [id, entry] : sessions_) n += entry.worker_id == worker_id ? 1 : 0;
  return n;
}

template <class Predicate>
std::map<std::string, SessionEntry> MemorySessionStore::select(Predicate&& predicate) {
  std::lock_guard lock(mu_);
  std::map<std::string, SessionEntry> out;
  for (const auto& [id, entry] : sessions_)
    if (predicate(entry)) out.emplace(id, entry);
  return out;
}

std::map<std::string, SessionEntry> MemorySessionStore::for_worker(const std::string& worker_id) {
  return select([&](const SessionEntry& e) { return e.worker_id == worker_id; });
}

std::map<std::string, SessionEntry> MemorySessionStore::for_user(const std::string& user_sub) {
  if (user_sub.empty()) return {};
  return select([&](const SessionEntry& e) { return e.user_sub == user_sub; });
}

std::map<std::string, SessionEntry> MemorySessionStore::for_sign_in(const std::string& sign_in_id) {
  if (sign_in_id.empty()) return {};
  return select([&](const SessionEntry& e) { return e.sign_in_id == sign_in_id; });
}

std::size_t MemorySessionStore::sweep_idle(Time cutoff) {
  return remove_if([&](const SessionEntry& e) { return e.last_access < cutoff; });
}

}  // namespace blockyard::state
