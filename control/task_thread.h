// One background thread that runs posted tasks in order: the control service runs its blocking
// calls here (Apply waits for every worker, GetStats collects from every worker), so gRPC's
// callback threads never block.
//
// Ownership: owned by the ControlService. Thread-safety: Post and Stop from any thread; tasks run
// on the task thread.
#ifndef RWPROXY_CONTROL_TASK_THREAD_H_
#define RWPROXY_CONTROL_TASK_THREAD_H_

#include <condition_variable>
#include <deque>
#include <functional>
#include <mutex>
#include <thread>
#include <utility>

namespace rwproxy::control {

class TaskThread {
 public:
  TaskThread() : thread_([this] { Run(); }) {}
  ~TaskThread() { Stop(); }
  TaskThread(const TaskThread&) = delete;
  TaskThread& operator=(const TaskThread&) = delete;

  // Queues `task`; false (and `task` is dropped) once Stop() has begun.
  bool Post(std::function<void()> task) {
    std::lock_guard<std::mutex> lock(mu_);
    if (stopping_) return false;
    tasks_.push_back(std::move(task));
    cv_.notify_one();
    return true;
  }

  // Runs the tasks already queued, then joins the thread. Idempotent.
  void Stop() {
    {
      std::lock_guard<std::mutex> lock(mu_);
      stopping_ = true;
      cv_.notify_one();
    }
    if (thread_.joinable()) thread_.join();
  }

 private:
  void Run() {
    std::unique_lock<std::mutex> lock(mu_);
    while (true) {
      cv_.wait(lock, [this] { return stopping_ || !tasks_.empty(); });
      if (tasks_.empty()) return;  // stopping, and nothing left to run
      std::function<void()> task = std::move(tasks_.front());
      tasks_.pop_front();
      lock.unlock();
      task();
      lock.lock();
    }
  }

  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<std::function<void()>> tasks_;
  bool stopping_ = false;
  std::thread thread_;  // last: starts after the other members exist
};

}  // namespace rwproxy::control

#endif  // RWPROXY_CONTROL_TASK_THREAD_H_
