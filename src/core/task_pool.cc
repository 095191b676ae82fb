#include "core/task_pool.h"

#include <spdlog/spdlog.h>

#include <algorithm>

namespace blockyard {

TaskPool::TaskPool(std::string name, std::size_t threads) : name_(std::move(name)) {
  for (std::size_t i = 0; i < std::max<std::size_t>(1, threads); ++i)
    threads_.emplace_back([this] { run(); });
}

TaskPool::~TaskPool() {
  shutdown();
  for (auto& t : threads_)
    if (t.joinable()) t.join();
}

bool TaskPool::post(std::function<void()> task) {
  {
    std::lock_guard lock(mu_);
    if (stopping_) return false;
    queue_.push_back(std::move(task));
  }
  wake_.notify_one();
  return true;
}

void TaskPool::shutdown() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
  }
  wake_.notify_all();
  const auto self = std::this_thread::get_id();
  for (auto& t : threads_)
    if (t.get_id() == self) return;
  for (auto& t : threads_)
    if (t.joinable()) t.join();
}

std::size_t TaskPool::pending() const {
  std::lock_guard lock(mu_);
  return queue_.size() + running_;
}

void TaskPool::run() {
  std::unique_lock lock(mu_);
  while (true) {
    wake_.wait(lock, [this] { return stopping_ || !queue_.empty(); });
    if (queue_.empty()) return;  // stopping, and nothing left to run
    auto task = std::move(queue_.front());
    queue_.pop_front();
    ++running_;
    lock.unlock();
    try {
      task();
    } catch (const std::exception& e) {
      spdlog::error("{}: task failed: {}", name_, e.what());
    } catch (...) {
      spdlog::error("{}: task failed", name_);
    }
    task = nullptr;  // whatever it captured goes before the next task
    lock.lock();
    --running_;
  }
}

}  // namespace blockyard
