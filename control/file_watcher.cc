#include "control/file_watcher.h"

#include <poll.h>
#include <sys/eventfd.h>
#include <sys/inotify.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>

#include "absl/strings/str_cat.h"
#include "server/log/log.h"

namespace rwproxy::control {
namespace {

bool ReadAll(const std::string& path, std::string* out) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return false;
  std::stringstream buffer;
  buffer << in.rdbuf();
  *out = buffer.str();
  return true;
}

std::string DirectoryOf(const std::string& path) {
  size_t slash = path.rfind('/');
  if (slash == std::string::npos) return ".";
  return slash == 0 ? "/" : path.substr(0, slash);
}

}  // namespace

FileWatcher::FileWatcher(std::string path, std::function<void(const std::string&)> on_change)
    : path_(std::move(path)), on_change_(std::move(on_change)) {}

FileWatcher::~FileWatcher() { Stop(); }

absl::Status FileWatcher::Start(std::string initial) {
  last_ = std::move(initial);
  inotify_fd_ = inotify_init1(IN_CLOEXEC | IN_NONBLOCK);
  stop_fd_ = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
  if (inotify_fd_ < 0 || stop_fd_ < 0) {
    return absl::InternalError(absl::StrCat("inotify: ", std::strerror(errno)));
  }
  std::string dir = DirectoryOf(path_);
  uint32_t mask = IN_CLOSE_WRITE | IN_MOVED_TO | IN_CREATE | IN_DELETE | IN_ATTRIB | IN_MODIFY;
  if (inotify_add_watch(inotify_fd_, dir.c_str(), mask) < 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("cannot watch directory ", dir, ": ", std::strerror(errno)));
  }
  thread_ = std::thread([this] { Loop(); });
  return absl::OkStatus();
}

void FileWatcher::Stop() {
  if (thread_.joinable()) {
    uint64_t one = 1;
    [[maybe_unused]] ssize_t n = write(stop_fd_, &one, sizeof(one));
    thread_.join();
  }
  if (inotify_fd_ >= 0) close(inotify_fd_);
  if (stop_fd_ >= 0) close(stop_fd_);
  inotify_fd_ = stop_fd_ = -1;
}

void FileWatcher::CheckNow() {
  std::string content;
  if (!ReadAll(path_, &content)) {
    log::Debug("watch", absl::StrCat("cannot read ", path_, "; waiting for the next change"));
    return;
  }
  if (content == last_) return;
  log::Debug("watch", absl::StrCat(path_, " changed (", content.size(), " bytes); applying it"));
  last_ = content;
  on_change_(content);
}

void FileWatcher::Loop() {
  char events[4096];
  CheckNow();  // a change made between reading `initial` and adding the watch
  for (;;) {
    pollfd fds[2] = {{inotify_fd_, POLLIN, 0}, {stop_fd_, POLLIN, 0}};
    if (poll(fds, 2, -1) < 0 && errno != EINTR) {
      log::Error("watch",
                 absl::StrCat("stopped watching ", path_, ": poll: ", std::strerror(errno)));
      return;
    }
    if (fds[1].revents) return;
    if (!(fds[0].revents & POLLIN)) continue;
    // Drain the burst (a ConfigMap update is several events), then settle briefly so a writer
    // that truncates and rewrites is seen once, complete.
    while (read(inotify_fd_, events, sizeof(events)) > 0) {
    }
    pollfd settle[1] = {{stop_fd_, POLLIN, 0}};
    if (poll(settle, 1, 50) > 0) return;
    while (read(inotify_fd_, events, sizeof(events)) > 0) {
    }
    CheckNow();
  }
}

}  // namespace rwproxy::control
