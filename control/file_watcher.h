// Watches one config file for changes the way Kubernetes changes a mounted ConfigMap: it swaps
// the `..data` symlink in the file's directory, so the file's own inode never changes. The
// watcher listens (inotify) to the directory, and on any event there re-reads the file and
// calls back when its content differs from the last content it reported.
//
// Ownership: owned by main. Thread-safety: Start/Stop from the owning thread; the callback runs
// on the watcher's own thread, one call at a time.
#ifndef RWPROXY_CONTROL_FILE_WATCHER_H_
#define RWPROXY_CONTROL_FILE_WATCHER_H_

#include <atomic>
#include <functional>
#include <string>
#include <thread>

#include "absl/status/status.h"

namespace rwproxy::control {

class FileWatcher {
 public:
  // `on_change(content)` gets the file's new content (or is not called while it is unreadable).
  FileWatcher(std::string path, std::function<void(const std::string&)> on_change);
  ~FileWatcher();

  // `initial` is the content already applied (so an unchanged file triggers nothing). The file is
  // checked once at start, so a change made after `initial` was read is not missed.
  absl::Status Start(std::string initial);
  void Stop();

 private:
  void Loop();
  void CheckNow();

  std::string path_;
  std::function<void(const std::string&)> on_change_;
  std::string last_;
  int inotify_fd_ = -1;
  int stop_fd_ = -1;  // eventfd that wakes the loop for Stop()
  std::thread thread_;
};

}  // namespace rwproxy::control

#endif  // RWPROXY_CONTROL_FILE_WATCHER_H_
