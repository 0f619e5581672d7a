// Runs the rwctl binary as a child process for tests: arguments, stdin text and environment in;
// exit code, stdout and stderr out. Children are waited for with a deadline and killed by pid if
// they overrun it. The ambient RWCTL_* environment is not passed on, so tests are hermetic.
//
// Ownership: the test owns an RwctlRunner, which owns a private temp dir (removed at the end) and
// any child started with Start() until Wait() reaps it. Thread-safety: the test's thread only.
#ifndef RWPROXY_TESTS_CLI_RWCTL_RUNNER_H_
#define RWPROXY_TESTS_CLI_RWCTL_RUNNER_H_

#include <sys/types.h>

#include <chrono>
#include <string>
#include <vector>

#include "absl/status/statusor.h"

namespace rwtest {

struct RwctlResult {
  int exit_code = -1;  // 128 + signal if a signal ended it
  std::string out;
  std::string err;
  std::string Describe() const;  // for failure messages
};

class RwctlRunner {
 public:
  // A started, not yet reaped rwctl.
  struct Child {
    pid_t pid = -1;
    std::string out_path;
    std::string err_path;
  };

  RwctlRunner();
  ~RwctlRunner();
  RwctlRunner(const RwctlRunner&) = delete;
  RwctlRunner& operator=(const RwctlRunner&) = delete;

  // Writes `text` to NAME in the temp dir; returns its path.
  std::string WriteFile(const std::string& name, const std::string& text);

  // Runs rwctl to completion. `env` adds "NAME=value" entries.
  absl::StatusOr<RwctlResult> Run(const std::vector<std::string>& args,
                                  const std::string& stdin_text = "",
                                  const std::vector<std::string>& env = {},
                                  std::chrono::milliseconds timeout = std::chrono::seconds(30));

  // Starts rwctl and returns at once; Wait() reaps it (killing it after `timeout`).
  absl::StatusOr<Child> Start(const std::vector<std::string>& args,
                              const std::string& stdin_text = "",
                              const std::vector<std::string>& env = {});
  absl::StatusOr<RwctlResult> Wait(const Child& child,
                                   std::chrono::milliseconds timeout = std::chrono::seconds(30));

  const std::string& dir() const { return dir_; }

 private:
  std::string dir_;
  int serial_ = 0;
};

// Path of the rwctl binary under test (compile definition RWCTL_BIN).
std::string RwctlBinary();

}  // namespace rwtest

#endif  // RWPROXY_TESTS_CLI_RWCTL_RUNNER_H_
