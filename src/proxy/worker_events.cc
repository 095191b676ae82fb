#include "proxy/worker_events.h"

#include <mutex>

namespace blockyard::proxy {

WorkerEvents::Subscription::~Subscription() {
  if (token_) token_->events->unsubscribe(token_->id);
}

WorkerEvents::Subscription WorkerEvents::subscribe(Listener listener) {
  std::unique_lock lock(mu_);
  const int id = next_id_++;
  listeners_.emplace(id, std::move(listener));
  Subscription s;
  s.token_ = std::make_unique<Subscription::Token>(Subscription::Token{this, id});
  return s;
}

void WorkerEvents::unsubscribe(int id) {
  std::unique_lock lock(mu_);  // waits for a publish in progress
  listeners_.erase(id);
}

void WorkerEvents::publish(const WorkerEnded& event) {
  std::shared_lock lock(mu_);
  for (const auto& [id, listener] : listeners_) listener(event);
}

}  // namespace blockyard::proxy
