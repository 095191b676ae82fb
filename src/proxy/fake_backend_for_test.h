// FakeBackend: a Backend without processes, for the worker manager's unit
// tests. The real backend cannot be made to hang in spawn() or stop(), or to
// exit on cue, which is what the manager's rules must be tested against; it
// has its own tests with real sandboxes (backend/process/). Like the real
// one, stop() reports the exit through WorkerSpec::on_exit before it returns.
//
// Test-only header.
#pragma once

#include <atomic>
#include <condition_variable>
#include <functional>
#include <map>
#include <mutex>
#include <set>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "backend/backend.h"

namespace blockyard::proxy::testing {

class FakeBackend final : public backend::Backend {
 public:
  ~FakeBackend() override {
    release_spawns();
    release_stops();
    for (auto& t : exit_threads_) t.join();
  }

  backend::Endpoint spawn(const backend::WorkerSpec& spec) override {
    during_call();
    wait_gate(spawns_held_);
    std::lock_guard lock(mu_);
    spawn_calls_.push_back(spec.worker_id);
    if (fail_spawns_) throw std::runtime_error("fake backend: spawn refused");
    Worker& w = workers_[spec.worker_id];
    w.spec = spec;
    w.running = true;
    w.endpoint = backend::Endpoint::tcp("127.0.0.1", 20000 + static_cast<int>(spawn_calls_.size()));
    return w.endpoint;
  }

  void stop(const std::string& worker_id, int) override {
    during_call();
    wait_gate(stops_held_);
    std::function<void(int)> on_exit;
    {
      std::lock_guard lock(mu_);
      stop_calls_.push_back(worker_id);
      auto it = workers_.find(worker_id);
      if (it == workers_.end()) return;
      if (it->second.running) on_exit = it->second.spec.on_exit;
      workers_.erase(it);
    }
    if (on_exit) on_exit(143);
  }

  bool health_check(const std::string& worker_id) override {
    during_call();
    std::lock_guard lock(mu_);
    ++health_checks_;
    auto it = workers_.find(worker_id);
    return it != workers_.end() && it->second.running && ready_.contains(worker_id);
  }

  std::optional<backend::WorkerStatus> status(const std::string& worker_id) override {
    std::lock_guard lock(mu_);
    auto it = workers_.find(worker_id);
    if (it == workers_.end()) return std::nullopt;
    backend::WorkerStatus s;
    s.worker_id = worker_id;
    s.running = it->second.running;
    return s;
  }
  std::vector<backend::WorkerStatus> list_managed() override {
    std::vector<backend::WorkerStatus> out;
    for (const auto& id : table()) out.push_back(*status(id));
    return out;
  }
  std::shared_ptr<LineLog> logs(const std::string& worker_id) override {
    std::lock_guard lock(mu_);
    auto it = workers_.find(worker_id);
    return it == workers_.end() ? nullptr : it->second.spec.log;
  }
  void stop_all(int grace_ms) override {
    for (const auto& id : table()) stop(id, grace_ms);
  }

  // ---- Steering ----

  // The worker answers health checks from now on.
  void make_ready(const std::string& worker_id) {
    std::lock_guard lock(mu_);
    ready_.insert(worker_id);
  }
  // The worker's process exits on its own (reported from another thread).
  void exit(const std::string& worker_id, int code) {
    std::function<void(int)> on_exit;
    {
      std::lock_guard lock(mu_);
      auto it = workers_.find(worker_id);
      if (it == workers_.end() || !it->second.running) return;
      it->second.running = false;
      on_exit = it->second.spec.on_exit;
    }
    exit_threads_.emplace_back([on_exit, code] { on_exit(code); });
  }
  void fail_spawns(bool fail) {
    std::lock_guard lock(mu_);
    fail_spawns_ = fail;
  }
  // spawn() / stop() block until released.
  void hold_spawns() { set_gate(spawns_held_, true); }
  void release_spawns() { set_gate(spawns_held_, false); }
  void hold_stops() { set_gate(stops_held_, true); }
  void release_stops() { set_gate(stops_held_, false); }
  // Runs inside every spawn(), stop() and health_check() (before any gate).
  void set_during_call(std::function<void()> hook) {
    std::lock_guard lock(mu_);
    during_call_ = std::move(hook);
  }

  // ---- Observations ----

  std::vector<std::string> spawn_calls() {
    std::lock_guard lock(mu_);
    return spawn_calls_;
  }
  std::vector<std::string> stop_calls() {
    std::lock_guard lock(mu_);
    return stop_calls_;
  }
  int health_checks() {
    std::lock_guard lock(mu_);
    return health_checks_;
  }
  std::vector<std::string> table() {
    std::lock_guard lock(mu_);
    std::vector<std::string> ids;
    for (const auto& [id, w] : workers_) ids.push_back(id);
    return ids;
  }
  std::optional<backend::WorkerSpec> spec_of(const std::string& worker_id) {
    std::lock_guard lock(mu_);
    auto it = workers_.find(worker_id);
    if (it == workers_.end()) return std::nullopt;
    return it->second.spec;
  }

 private:
  struct Worker {
    backend::WorkerSpec spec;
    backend::Endpoint endpoint;
    bool running = false;
  };

  void during_call() {
    std::function<void()> hook;
    {
      std::lock_guard lock(mu_);
      hook = during_call_;
    }
    if (hook) hook();
  }
  void set_gate(bool& gate, bool held) {
    {
      std::lock_guard lock(mu_);
      gate = held;
    }
    gate_cv_.notify_all();
  }
  void wait_gate(const bool& gate) {
    std::unique_lock lock(mu_);
    gate_cv_.wait(lock, [&] { return !gate; });
  }

  std::mutex mu_;
  std::condition_variable gate_cv_;
  std::map<std::string, Worker> workers_;
  std::set<std::string> ready_;
  std::vector<std::string> spawn_calls_;
  std::vector<std::string> stop_calls_;
  int health_checks_ = 0;
  bool fail_spawns_ = false;
  bool spawns_held_ = false;
  bool stops_held_ = false;
  std::function<void()> during_call_;
  std::vector<std::thread> exit_threads_;  // only touched by the test thread
};

}  // namespace blockyard::proxy::testing
