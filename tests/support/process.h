// Child processes for integration tests (rwproxy, rwupstream), controlled by pid only.
//
// Ownership: a Process owns its child: destroying it stops the child (SIGTERM, then SIGKILL after
// a deadline) and reaps it. Move-only. Thread-safety: one thread at a time (the test's thread).
#ifndef RWPROXY_TESTS_SUPPORT_PROCESS_H_
#define RWPROXY_TESTS_SUPPORT_PROCESS_H_

#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"

namespace rwtest {

class Process {
 public:
  Process() = default;
  Process(Process&& other) noexcept;
  Process& operator=(Process&& other) noexcept;
  Process(const Process&) = delete;
  Process& operator=(const Process&) = delete;
  ~Process();

  // Starts `binary` with `args` (argv[1..]); its stdout and stderr go to `log_path` (truncated).
  static absl::StatusOr<Process> Spawn(const std::string& binary,
                                       const std::vector<std::string>& args,
                                       const std::string& log_path);

  pid_t pid() const { return pid_; }
  const std::string& log_path() const { return log_path_; }

  // True while the child runs; reaps it (and records its status) once it has exited.
  bool Alive();

  // SIGTERM, wait up to `grace`, then SIGKILL and reap. Returns the exit code, or 128 + signal if
  // a signal ended it. Idempotent: later calls return the recorded result.
  int Stop(std::chrono::milliseconds grace = std::chrono::seconds(5));

  // The exit code (or 128 + signal) once the child has been reaped.
  std::optional<int> exit_code() const { return exit_code_; }

 private:
  void Record(int wait_status);

  pid_t pid_ = -1;
  std::string log_path_;
  std::optional<int> exit_code_;
};

// Waits until the ports file at `path` exists and names every entry of `names`; lines look like
// "proxy 127.0.0.1:PORT". Fails early if `owner` (optional) exits first.
absl::StatusOr<std::map<std::string, uint16_t>> WaitForPortsFile(
    const std::string& path, const std::vector<std::string>& names,
    std::chrono::milliseconds timeout, Process* owner = nullptr);

// VmRSS / VmHWM of a process in bytes, from /proc/PID/status.
absl::StatusOr<int64_t> ReadRssBytes(pid_t pid);
absl::StatusOr<int64_t> ReadPeakRssBytes(pid_t pid);

// The last `max_bytes` of a file (e.g. a child's log), or "" if unreadable.
std::string ReadFileTail(const std::string& path, size_t max_bytes = 4096);

}  // namespace rwtest

#endif  // RWPROXY_TESTS_SUPPORT_PROCESS_H_
