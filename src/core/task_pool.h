// TaskPool: a fixed set of threads running posted tasks, oldest first. For
// work that may block (backend calls, database reads) and so must stay off
// the threads that serve connections and off the worker monitor.
//
// Thread safety: post() and shutdown() may be called from any thread,
// including from a task. A task that throws is logged and dropped.
// Destruction is shutdown().
#pragma once

#include <condition_variable>
#include <cstddef>
#include <deque>
#include <functional>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace blockyard {

class TaskPool {
 public:
  TaskPool(std::string name, std::size_t threads);
  ~TaskPool();
  TaskPool(const TaskPool&) = delete;
  TaskPool& operator=(const TaskPool&) = delete;

  // Queues `task`. False (and the task is dropped) once shutdown() began.
  bool post(std::function<void()> task);
  // Refuses new tasks, runs every task already queued, joins the threads.
  // From one of the pool's own tasks it only refuses new tasks (a thread
  // cannot join itself); the destructor then does the rest.
  void shutdown();
  // Tasks queued or running.
  std::size_t pending() const;

 private:
  void run();

  const std::string name_;
  mutable std::mutex mu_;
  std::condition_variable wake_;
  std::deque<std::function<void()>> queue_;
  std::size_t running_ = 0;
  bool stopping_ = false;
  std::vector<std::thread> threads_;
};

}  // namespace blockyard
