// A real Apache httpd (Debian's /usr/sbin/apache2) for comparison tests: writes a complete
// config (a generated prelude: ServerRoot, Listen on a free loopback port, the LoadModule lines,
// pid file, error log, runtime dir, mutexes, ServerName, an empty DocumentRoot; plus the case's
// body with placeholders substituted) into a private temp dir, checks it with `apache2 -t`, runs
// `apache2 -f CONF -DFOREGROUND`, waits until it accepts connections, and stops it by pid: SIGTERM
// to the parent, which reaps its children; the children recorded while it ran are then checked
// to be gone (and killed by pid if one is not). Nothing is ever signalled by name.
//
// Ownership: the test owns an ApacheServer, which owns the parent process and the temp dir (kept,
// with its logs printed, when the test failed). Thread-safety: the test's main thread only.
#ifndef RWPROXY_TESTS_SUPPORT_APACHE_SERVER_H_
#define RWPROXY_TESTS_SUPPORT_APACHE_SERVER_H_

#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "tests/support/process.h"

namespace rwtest {

// What a command run to completion printed, and how it ended.
struct CommandResult {
  int exit_code = -1;  // or 128 + signal
  std::string out;     // stdout
  std::string err;     // stderr
};

// Runs `binary args...` with stdin from /dev/null, stdout and stderr captured separately (in
// files under `dir`, named after `tag`), and waits up to `timeout` for it to exit (killed by pid
// and an error after that).
absl::StatusOr<CommandResult> RunCommand(const std::string& binary,
                                         const std::vector<std::string>& args,
                                         const std::string& dir, const std::string& tag,
                                         std::chrono::milliseconds timeout);

class ApacheServer {
 public:
  static constexpr char kBinary[] = "/usr/sbin/apache2";
  static constexpr char kModuleDir[] = "/usr/lib/apache2/modules";
  static constexpr std::chrono::milliseconds kStartTimeout{10000};

  // True when Debian's apache2 is installed (kBinary is executable).
  static bool Installed();

  ApacheServer();
  ~ApacheServer();
  ApacheServer(const ApacheServer&) = delete;
  ApacheServer& operator=(const ApacheServer&) = delete;

  // Writes httpd.conf (prelude + `body` with every key of `placeholders`, e.g. "@UPSTREAM@",
  // replaced by its value; "@PORT@" is always Apache's own port), checks it with `apache2 -t`
  // (the error is in the status) and starts Apache; returns once it accepts connections.
  absl::Status Start(std::string_view body, const std::map<std::string, std::string>& placeholders);

  // SIGTERM to the parent, waits for it to exit, then makes sure none of its children is left.
  // Idempotent. An error names any child that had to be killed.
  absl::Status Stop();

  uint16_t port() const { return port_; }
  pid_t pid() const { return process_.pid(); }
  // The full config file (what `rwctl import apache` reads too).
  const std::string& config_path() const { return config_path_; }
  const std::string& dir() const { return dir_; }
  // The tail of Apache's error log and of its stdout/stderr.
  std::string Logs() const;

 private:
  std::string Prelude() const;
  absl::Status WaitUntilAccepting();
  // Pids whose parent is the running Apache parent (from /proc), for the leftover check.
  std::vector<pid_t> Children() const;

  std::string dir_;
  std::string config_path_;
  uint16_t port_ = 0;
  Process process_;
  std::vector<pid_t> children_;  // every child seen while it ran
};

}  // namespace rwtest

#endif  // RWPROXY_TESTS_SUPPORT_APACHE_SERVER_H_
