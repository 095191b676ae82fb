// SessionStore: browser sessions of the data plane. A session is the value of
// the blockyard_route cookie; it maps to the worker that serves it, the user
// it belongs to and when it was last used. It is shared state: several
// servers in front of the same workers (rolling updates, later replicas) must
// see the same sessions, so an implementation may live outside the process
// (Redis). MemorySessionStore (memory_session_store.h) keeps it in this one.
//
// The contract below is what session_store_conformance.h checks; a new
// implementation joins by instantiating that suite. Times are kept to whole
// seconds at least (callers and tests pass whole seconds).
//
// Thread safety: every method may be called from any thread.
// Failure: the memory implementation never fails; one backed by a service
// throws std::runtime_error when it cannot reach it.
#pragma once

#include <chrono>
#include <cstddef>
#include <functional>
#include <map>
#include <optional>
#include <string>

namespace blockyard::state {

using Time = std::chrono::system_clock::time_point;

struct SessionEntry {
  std::string worker_id;
  std::string app_id;    // the app whose path the cookie is scoped to
  std::string user_sub;  // "" = anonymous
  Time last_access{};
  std::string sign_in_id;  // the browser sign-in that opened it; "" = none

  friend bool operator==(const SessionEntry&, const SessionEntry&) = default;
};

class SessionStore {
 public:
  virtual ~SessionStore() = default;

  // True when every call is answered from this process's memory without
  // blocking on I/O (the proxy then asks on its I/O threads; otherwise it
  // asks from a worker pool).
  virtual bool is_local() const = 0;

  virtual std::optional<SessionEntry> get(const std::string& id) = 0;
  // Shows the session to `read` without copying it out (the proxy looks one
  // up per request); false when there is none. `read` must not call back
  // into the store. The default copies it through get().
  virtual bool visit(const std::string& id, const std::function<void(const SessionEntry&)>& read) {
    auto entry = get(id);
    if (entry) read(*entry);
    return entry.has_value();
  }
  // Creates or replaces the session.
  virtual void set(const std::string& id, const SessionEntry& entry) = 0;
  // last_access = now, other fields untouched; false when there is no such session.
  virtual bool touch(const std::string& id, Time now) = 0;
  // False when there was no such session.
  virtual bool remove(const std::string& id) = 0;
  // Removes every session bound to the worker; returns how many.
  virtual std::size_t remove_by_worker(const std::string& worker_id) = 0;
  virtual std::size_t count_for_worker(const std::string& worker_id) = 0;
  // The worker's sessions by id, fields as stored.
  virtual std::map<std::string, SessionEntry> for_worker(const std::string& worker_id) = 0;
  // The sessions of one user (non-empty `user_sub`), or of one sign-in
  // (non-empty `sign_in_id`), by id.
  virtual std::map<std::string, SessionEntry> for_user(const std::string& user_sub) = 0;
  virtual std::map<std::string, SessionEntry> for_sign_in(const std::string& sign_in_id) = 0;
  // Removes the sessions last used before `cutoff`; returns how many.
  virtual std::size_t sweep_idle(Time cutoff) = 0;
};

}  // namespace blockyard::state
