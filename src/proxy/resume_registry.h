// ResumeRegistry: resume token -> the resumable WebSocket session it names.
//
// A token is unguessable (144 random bits) and bound to the browser session
// (blockyard_route cookie value) and app that opened it: find() only answers
// a caller presenting the same session and app. The registry holds sessions
// weakly; a session removes its token when it ends, so a token outlives its
// session only until then (the session's own timer enforces ws_cache_ttl),
// and the tokens of a worker that ended go at once (drop_worker, on the
// "worker ended" event).
//
// Thread safety: all methods may be called from any thread.
#pragma once

#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>

namespace blockyard::proxy {

class ResilientSession;

class ResumeRegistry {
 public:
  ResumeRegistry() = default;
  ResumeRegistry(const ResumeRegistry&) = delete;
  ResumeRegistry& operator=(const ResumeRegistry&) = delete;

  // Registers `session`, served by `worker_id`, under a new token and
  // returns the token.
  std::string add(std::weak_ptr<ResilientSession> session, std::string route_session,
                  std::string app_id, std::string worker_id);

  // The live session for `token`, if the token exists and was issued to the
  // same route session and app; nullptr otherwise.
  std::shared_ptr<ResilientSession> find(std::string_view token, std::string_view route_session,
                                         std::string_view app_id);

  void remove(const std::string& token);
  // Forgets every token of sessions served by the worker; returns how many.
  std::size_t drop_worker(const std::string& worker_id);
  std::size_t size();

 private:
  struct Entry {
    std::weak_ptr<ResilientSession> session;
    std::string route_session;
    std::string app_id;
    std::string worker_id;
  };
  std::mutex mu_;
  std::map<std::string, Entry, std::less<>> entries_;
};

}  // namespace blockyard::proxy
