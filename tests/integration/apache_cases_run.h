// Running the cases of tests/integration/apache_cases.h: the two recording upstreams they share,
// sending a case's requests and recording both sides, and `rwctl import apache` with its report.
//
// Ownership: the test fixture owns the Upstreams (and so their threads); the rest are free
// functions. Thread-safety: the test's main thread (RecordingUpstream's accessors are
// thread-safe; its reply function runs on its connection threads).
#ifndef RWPROXY_TESTS_INTEGRATION_APACHE_CASES_RUN_H_
#define RWPROXY_TESTS_INTEGRATION_APACHE_CASES_RUN_H_

#include <chrono>
#include <cstdint>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "tests/integration/apache_cases_compare.h"
#include "tests/support/recording_upstream.h"

namespace rwtest {

// The two recording upstreams a case runs against: "up1" is @UPSTREAM@, "up2" @UPSTREAM2@.
class Upstreams {
 public:
  absl::Status Start();
  std::string address(int i) const;  // "127.0.0.1:PORT"
  // For ApacheServer::Start.
  std::map<std::string, std::string> Placeholders() const;
  // Concrete addresses back to placeholders (the upstreams', and the front's port), so Apache's
  // and rwproxy's records compare.
  std::vector<std::pair<std::string, std::string>> Replacements(uint16_t front_port) const;
  // Both upstreams answer with `reply` (empty: the fixed 200 "ok").
  void SetReply(const UpstreamReplyFn& reply);
  // Framing errors of both, prefixed with the upstream's name.
  std::vector<std::string> Errors() const;
  RecordingUpstream& up(int i) { return up_[i]; }

 private:
  RecordingUpstream up_[2];
};

// Sends every request of `c` to 127.0.0.1:port, each on a fresh client connection, and records
// what the upstreams received for it and what the client got (not yet normalized).
std::vector<Observation> Observe(uint16_t port, const ImportCase& c, Upstreams& upstreams);

struct Imported {
  std::string yaml;    // stdout
  std::string report;  // the --report file, then stderr
};

// `RWCTL import apache CONFIG --report DIR/import-report.txt`; an error unless it exits 0 with a
// config on stdout (the error carries stderr, the report and stdout).
absl::StatusOr<Imported> ImportApache(const std::string& rwctl, const std::string& config_path,
                                      const std::string& dir, std::chrono::milliseconds timeout);

// The report's lines with ": VERDICT:" (e.g. "refused", "approximated").
std::vector<std::string> ReportLines(const std::string& report, const std::string& verdict);

// Each line indented by two spaces, newline-terminated.
std::string Indented(const std::vector<std::string>& lines);

// One side's records of a case, one request per two lines, for messages.
std::string Dump(const ImportCase& c, const std::vector<Observation>& observations);

}  // namespace rwtest

#endif  // RWPROXY_TESTS_INTEGRATION_APACHE_CASES_RUN_H_
