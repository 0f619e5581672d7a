// One background thread that runs posted tasks in order: the control service runs its blocking
// calls here (Apply waits for every worker, GetStats collects from every worker), so gRPC's
// callback threads never block. The queue of waiting tasks is bounded: a Post beyond the bound is
// refused, so a wedged task cannot make the queue grow without limit; a task that has not started
// can be cancelled (removed), so a call its client gave up on frees its place at once.
//
// Ownership: owned by the ControlService. Thread-safety: Post, Cancel, Stop and queued() from any
// thread; tasks run on the task thread.
#ifndef RWPROXY_CONTROL_TASK_THREAD_H_
#define RWPROXY_CONTROL_TASK_THREAD_H_

#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <list>
#include <mutex>
#include <thread>
#include <utility>

namespace rwproxy::control {

class TaskThread {
 public:
  enum class PostResult { kQueued, kFull, kStopped };
  using TaskId = uint64_t;

  // At most `max_queued` tasks wait (the running one not counted); 0 means no bound.
  explicit TaskThread(size_t max_queued) : max_queued_(max_queued), thread_([this] { Run(); }) {}
  ~TaskThread() { Stop(); }
  TaskThread(const TaskThread&) = delete;
  TaskThread& operator=(const TaskThread&) = delete;

  // Queues `task` and sets *id (when not null) for Cancel. kFull when max_queued tasks already
  // wait, kStopped once Stop() has begun; in both cases `task` is dropped without running.
  PostResult Post(std::function<void()> task, TaskId* id = nullptr) {
    std::lock_guard<std::mutex> lock(mu_);
    if (stopping_) return PostResult::kStopped;
    if (max_queued_ > 0 && tasks_.size() >= max_queued_) return PostResult::kFull;
    const TaskId task_id = next_id_++;
    tasks_.emplace_back(task_id, std::move(task));
    if (id != nullptr) *id = task_id;
    cv_.notify_one();
    return PostResult::kQueued;
  }

  // Removes task `id` if it has not started: true when it was removed (it will never run), false
  // when it has started or finished already (or is unknown).
  bool Cancel(TaskId id) {
    std::lock_guard<std::mutex> lock(mu_);
    for (auto it = tasks_.begin(); it != tasks_.end(); ++it) {
      if (it->first == id) {
        tasks_.erase(it);
        return true;
      }
    }
    return false;
  }

  // Tasks waiting to run (not counting the one running).
  size_t queued() const {
    std::lock_guard<std::mutex> lock(mu_);
    return tasks_.size();
  }

  size_t max_queued() const { return max_queued_; }

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
      std::function<void()> task = std::move(tasks_.front().second);
      tasks_.pop_front();
      lock.unlock();
      task();
      lock.lock();
    }
  }

  const size_t max_queued_;
  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::list<std::pair<TaskId, std::function<void()>>> tasks_;  // at most max_queued_: Cancel scans
  TaskId next_id_ = 1;
  bool stopping_ = false;
  std::thread thread_;  // last: starts after the other members exist
};

}  // namespace rwproxy::control

#endif  // RWPROXY_CONTROL_TASK_THREAD_H_
