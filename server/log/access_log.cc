#include "server/log/access_log.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <csignal>
#include <cstring>

#include "absl/strings/str_cat.h"

namespace rwproxy {
namespace {

std::atomic<AccessLog*> g_reopen_target{nullptr};

void OnSigusr1(int) {
  if (AccessLog* log = g_reopen_target.load()) log->Reopen();  // an atomic store: signal-safe
}

int OpenFile(const std::string& path) {
  return ::open(path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
}

}  // namespace

absl::StatusOr<std::unique_ptr<AccessLog>> AccessLog::Open(const std::string& sink,
                                                           AccessLogFormat format) {
  int fd = -1;
  std::string path;
  if (sink == "stdout") {
    fd = 1;
  } else if (sink == "stderr") {
    fd = 2;
  } else {
    path = sink;
    fd = OpenFile(path);
    if (fd < 0) {
      return absl::InvalidArgumentError(
          absl::StrCat("cannot open access log ", path, ": ", std::strerror(errno)));
    }
  }
  std::unique_ptr<AccessLog> log(new AccessLog(std::move(path), fd, format));
  if (!log->path_.empty()) g_reopen_target.store(log.get());
  {  // always handled (a stray logrotate signal must not kill a proxy logging to stdout)
    struct sigaction action {};
    action.sa_handler = OnSigusr1;
    sigemptyset(&action.sa_mask);
    action.sa_flags = SA_RESTART;
    ::sigaction(SIGUSR1, &action, nullptr);
  }
  return log;
}

AccessLog::AccessLog(std::string path, int fd, AccessLogFormat format)
    : path_(std::move(path)), fd_(fd), format_(format) {
  thread_ = std::thread([this] { Run(); });
}

AccessLog::~AccessLog() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stop_ = true;
  }
  cv_.notify_one();
  thread_.join();
  AccessLog* self = this;
  g_reopen_target.compare_exchange_strong(self, nullptr);
  if (!path_.empty() && fd_ >= 0) ::close(fd_);
}

void AccessLog::Submit(std::string chunk, uint64_t lines) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (queue_.size() >= kMaxQueuedChunks) {
      dropped_.fetch_add(lines, std::memory_order_relaxed);
      return;  // the sink is behind: drop rather than grow
    }
    queue_.push_back({std::move(chunk), lines});
  }
  cv_.notify_one();
}

void AccessLog::Flush() {
  std::unique_lock<std::mutex> lock(mu_);
  flushed_.wait(lock, [&] { return (queue_.empty() && !writing_) || stop_; });
}

void AccessLog::ReopenNow() {
  if (path_.empty()) return;
  int fd = OpenFile(path_);
  if (fd < 0) return;  // keep writing to the old one
  ::close(fd_);
  fd_ = fd;
}

void AccessLog::Run() {
  for (;;) {
    Chunk chunk;
    {
      std::unique_lock<std::mutex> lock(mu_);
      writing_ = false;
      flushed_.notify_all();
      cv_.wait_for(lock, std::chrono::milliseconds(100),
                   [&] { return stop_ || !queue_.empty(); });
      if (queue_.empty()) {
        if (stop_) return;
        lock.unlock();
        if (reopen_.exchange(false)) ReopenNow();  // file I/O outside the lock
        continue;
      }
      chunk = std::move(queue_.front());
      queue_.pop_front();
      writing_ = true;
    }
    if (reopen_.exchange(false)) ReopenNow();
    const char* data = chunk.text.data();
    size_t left = chunk.text.size();
    while (left > 0) {
      ssize_t n = ::write(fd_, data, left);
      if (n < 0) {
        if (errno == EINTR) continue;
        dropped_.fetch_add(chunk.lines, std::memory_order_relaxed);  // sink error: counted
        break;
      }
      data += n;
      left -= static_cast<size_t>(n);
    }
    if (left == 0) written_.fetch_add(chunk.lines, std::memory_order_relaxed);
  }
}

}  // namespace rwproxy
