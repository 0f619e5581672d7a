// The access log: one line per request (JSON or text), written without ever blocking a worker.
// Each worker formats its lines into its own AccessLogBuffer; a full buffer (or the worker's
// 100 ms sweep) hands its chunk to the AccessLog's one writer thread through a short queue.
// When the sink cannot keep up and the queue is full, the chunk is dropped and its lines are
// counted (access_log_dropped): memory stays bounded, workers never wait for the disk.
// A file sink is reopened on SIGUSR1 (logrotate's copytruncate is not needed).
//
// Ownership: AccessLog is created by main and outlives the workers; each Worker owns its
// AccessLogBuffer. Thread-safety: AccessLog's methods may be called from any thread; an
// AccessLogBuffer belongs to its worker thread.
#ifndef RWPROXY_SERVER_LOG_ACCESS_LOG_H_
#define RWPROXY_SERVER_LOG_ACCESS_LOG_H_

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>

#include "absl/status/statusor.h"

namespace rwproxy {

enum class AccessLogFormat { kJson, kText };

class AccessLog {
 public:
  // `sink`: "stdout", "stderr" or a file path (appended to, created 0644).
  static absl::StatusOr<std::unique_ptr<AccessLog>> Open(const std::string& sink,
                                                         AccessLogFormat format);
  ~AccessLog();  // writes what is queued, then stops the writer

  AccessLogFormat format() const { return format_; }
  // A worker's chunk of complete lines (`lines` of them). Never blocks on I/O: a full queue
  // drops the chunk and counts its lines.
  void Submit(std::string chunk, uint64_t lines);
  uint64_t dropped() const { return dropped_.load(std::memory_order_relaxed); }
  uint64_t written() const { return written_.load(std::memory_order_relaxed); }
  // Reopens a file sink before the next write (SIGUSR1 calls this too).
  void Reopen() { reopen_.store(true); }
  // Waits until everything submitted so far is written (tests, shutdown).
  void Flush();

  static constexpr size_t kMaxQueuedChunks = 64;  // x 64 KiB chunks: at most ~4 MiB queued

 private:
  AccessLog(std::string path, int fd, AccessLogFormat format);
  void Run();
  void ReopenNow();

  const std::string path_;  // empty for stdout/stderr
  int fd_;
  const AccessLogFormat format_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::condition_variable flushed_;
  struct Chunk {
    std::string text;
    uint64_t lines = 0;
  };
  std::deque<Chunk> queue_;
  bool writing_ = false;
  bool stop_ = false;
  std::atomic<bool> reopen_{false};
  std::atomic<uint64_t> dropped_{0};
  std::atomic<uint64_t> written_{0};
  std::thread thread_;
};

// A worker's buffer of formatted lines.
class AccessLogBuffer {
 public:
  explicit AccessLogBuffer(AccessLog* log) : log_(log) {}
  ~AccessLogBuffer() { Hand(); }
  AccessLogFormat format() const { return log_->format(); }
  // Appends to the line being built; End() completes it.
  std::string& line() { return text_; }
  void End() {
    ++lines_;
    if (text_.size() >= kChunk) Hand();
  }
  // Gives what is buffered to the writer (the sweep calls it, so lines are at most ~100 ms old).
  void Hand() {
    if (lines_ == 0) return;
    log_->Submit(std::move(text_), lines_);
    text_ = std::string();
    text_.reserve(kChunk + 1024);
    lines_ = 0;
  }

 private:
  static constexpr size_t kChunk = 64 * 1024;
  AccessLog* log_;
  std::string text_;
  uint64_t lines_ = 0;
};

}  // namespace rwproxy

#endif  // RWPROXY_SERVER_LOG_ACCESS_LOG_H_
