// MemorySessionStore: the SessionStore of a single server, a map behind a
// mutex. Lookups by worker scan the map (a worker has one or a few sessions,
// and those calls are rare: a worker ending, the API listing workers).
#pragma once

#include <mutex>
#include <unordered_map>

#include "state/session_store.h"

namespace blockyard::state {

class MemorySessionStore final : public SessionStore {
 public:
  MemorySessionStore() = default;
  MemorySessionStore(const MemorySessionStore&) = delete;
  MemorySessionStore& operator=(const MemorySessionStore&) = delete;

  bool is_local() const override { return true; }
  std::optional<SessionEntry> get(const std::string& id) override;
  bool visit(const std::string& id, const std::function<void(const SessionEntry&)>& read) override;
  void set(const std::string& id, const SessionEntry& entry) override;
  bool touch(const std::string& id, Time now) override;
  bool remove(const std::string& id) override;
  std::size_t remove_by_worker(const std::string& worker_id) override;
  std::size_t count_for_worker(const std::string& worker_id) override;
  std::map<std::string, SessionEntry> for_worker(const std::string& worker_id) override;
  std::map<std::string, SessionEntry> for_user(const std::string& user_sub) override;
  std::map<std::string, SessionEntry> for_sign_in(const std::string& sign_in_id) override;
  std::size_t sweep_idle(Time cutoff) override;

 private:
  template <class Predicate>
  std::map<std::string, SessionEntry> select(Predicate&& predicate);
  template <class Predicate>
  std::size_t remove_if(Predicate&& predicate);

  std::mutex mu_;
  std::unordered_map<std::string, SessionEntry> sessions_;
};

}  // namespace blockyard::state
