// Starts real rwupstream and rwproxy processes on loopback for one integration test: writes the
// config into a private temp dir, waits for the ports files and /ready, and stops everything (by
// pid) at the end. On a failed test it keeps the dir and prints the tail of every log.
//
// Ownership: the test fixture owns one ProxyHarness, which owns the processes and the temp dir.
// Thread-safety: the test's main thread only (the port getters are safe to read from any thread
// once the processes have started).
#ifndef RWPROXY_TESTS_SUPPORT_HARNESS_H_
#define RWPROXY_TESTS_SUPPORT_HARNESS_H_

#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "tests/support/http_client.h"
#include "tests/support/process.h"

namespace rwtest {

// Paths of the binaries under test (compile definitions of rw_test_support).
std::string RwproxyBinary();
std::string RwupstreamBinary();

// A port on 127.0.0.1 that nothing listens on (bound, read, closed).
absl::StatusOr<uint16_t> UnusedPort();

// One endpoint of rwproxy's admin GET /clusters (JSON).
struct EndpointHealth {
  std::string address;  // "127.0.0.1:PORT"
  std::string source;   // as configured ("app.test:PORT" for a resolved name)
  std::string health;   // healthy | unhealthy | ejected | unresolved
  int64_t since_unix_ms = 0;
  std::string reason;
  int64_t retry_unix_ms = 0;  // unresolved: the next lookup
  int64_t ejections = 0;
  int64_t cx_active = 0;  // open pooled connections, all workers (idle included)
  int64_t cx_idle = 0;
  std::map<std::string, int64_t> counters;  // per endpoint: rq_total, health_check_failure, ...
};
struct ClusterHealth {
  std::string name;
  bool panic = false;
  std::vector<EndpointHealth> endpoints;
  std::vector<EndpointHealth> unresolved;  // configured names with no address yet (no address)
  // The endpoint whose address is `address`, or nullptr.
  const EndpointHealth* Find(std::string_view address) const;
};
// Parses the /clusters JSON document.
absl::StatusOr<std::vector<ClusterHealth>> ParseClusters(std::string_view json);

// GET /__set?<query> on the rwupstream at 127.0.0.1:port, on a fresh connection (which its
// /__stats counts); OK iff it answers 200. E.g. SetUpstream(port, "status=503&delay_ms=20").
// For a TLS rwupstream, pass its plaintext control port (ProxyHarness::upstream_stats_port).
absl::Status SetUpstream(uint16_t port, std::string_view query);
// The /__stats body of the rwupstream at 127.0.0.1:port, on a fresh connection (counted too).
absl::StatusOr<std::string> UpstreamStats(uint16_t port);

class ProxyHarness {
 public:
  static constexpr std::chrono::milliseconds kStartTimeout{10000};

  ProxyHarness();
  ~ProxyHarness();
  ProxyHarness(const ProxyHarness&) = delete;
  ProxyHarness& operator=(const ProxyHarness&) = delete;

  // Starts `rwupstream --name NAME` (plus `extra_args`) on `port` (0: an ephemeral one) and
  // returns its port. With "--tls-cert" in `extra_args` the port speaks TLS, and the stats
  // connection (SetUpstream, UpstreamStats) goes to rwupstream's plaintext control port. In
  // configs, "{{NAME}}" then expands to "127.0.0.1:PORT". Starting a NAME again first stops the
  // running one (if any); each start logs to its own file. `host`: another loopback address to
  // listen on (e.g. "127.0.0.2", so two upstreams share a port); "{{NAME}}" then expands to
  // "HOST:PORT". The test client only reaches 127.0.0.1, so such an upstream has no stats
  // connection: SetUpstream / UpstreamStats fail for it.
  absl::StatusOr<uint16_t> StartUpstream(const std::string& name,
                                         const std::vector<std::string>& extra_args = {},
                                         uint16_t port = 0, const std::string& host = "127.0.0.1");
  // Starts NAME again, after KillUpstream / StopUpstream, with the same extra args and on the
  // SAME port (so the proxy's config still names it).
  absl::StatusOr<uint16_t> RestartUpstream(const std::string& name);
  // Kills NAME with SIGKILL by pid and waits until it is reaped (its port is then closed). Its
  // port stays known, for "{{NAME}}" and RestartUpstream.
  absl::Status KillUpstream(const std::string& name);
  // Stops NAME gracefully (SIGTERM by pid; SIGKILL after 5 s) and reaps it; port kept as above.
  absl::Status StopUpstream(const std::string& name);
  // GET /__set?<query> on NAME over the kept-alive stats connection (so it adds no connection);
  // OK iff it answers 200.
  absl::Status SetUpstream(const std::string& name, std::string_view query);
  // Names an address for "{{NAME}}" without starting anything (e.g. a closed port).
  void SetAddress(const std::string& name, uint16_t port);

  // Expands `config_template`, writes routes.yaml and starts rwproxy on ephemeral ports (adds
  // "--workers 2", "--control 127.0.0.1:0" and "--drain-timeout 0s" unless `extra_args` sets
  // them); returns once GET /ready answers 200. May be called again after proxy().Stop() to
  // restart the proxy (e.g. to test --state-dir).
  absl::Status StartProxy(std::string_view config_template,
                          const std::vector<std::string>& extra_args = {});

  // Runs rwproxy with the expanded config and `extra_args`, expecting it to exit by itself within
  // `timeout`. Returns {exit code, log}.
  absl::StatusOr<std::pair<int, std::string>> RunProxyToExit(
      std::string_view config_template, const std::vector<std::string>& extra_args,
      std::chrono::milliseconds timeout = kStartTimeout);

  // "{{NAME}}" -> "127.0.0.1:PORT" (or HOST:PORT) for every upstream / address known so far.
  std::string Expand(std::string_view config_template) const;
  // What "{{NAME}}" expands to ("127.0.0.1:PORT"); "" if NAME is unknown. It is also the
  // endpoint's address in /clusters.
  std::string address(const std::string& name) const;

  uint16_t proxy_port() const { return proxy_port_; }
  uint16_t admin_port() const { return admin_port_; }
  // The control API (gRPC) port from the ports file's "control" line; 0 if there is none.
  uint16_t control_port() const { return control_port_; }
  // The TLS listener's port from the ports file's "tls" line (--tls-listen); 0 if there is none.
  uint16_t tls_port() const { return tls_port_; }
  uint16_t upstream_port(const std::string& name) const;
  // Where NAME serves /__stats and /__set in plaintext: the control port of a TLS upstream, else
  // upstream_port(NAME); 0 if unknown.
  uint16_t upstream_stats_port(const std::string& name) const;
  // The pid of upstream NAME, or -1 if it is not running (or unknown).
  pid_t upstream_pid(const std::string& name) const;
  Process& proxy() { return proxy_; }
  const std::string& dir() const { return dir_; }

  // A proxy counter from admin /stats ("cluster.app.upstream_cx_total").
  absl::StatusOr<int64_t> Counter(std::string_view name) const;
  // Cluster NAME from admin GET /clusters; NotFound if it is not listed.
  absl::StatusOr<ClusterHealth> Cluster(std::string_view name) const;
  // rwupstream NAME's /__stats as numbers ("connections", "requests", "requests_default",
  // "health_checks", "tls_handshakes", "websockets_total", ...), fetched over one kept-alive
  // connection opened at start, so fetching adds no connection of its own (for a TLS upstream
  // it is on the control port, which connections= does not count at all).
  absl::StatusOr<std::map<std::string, int64_t>> UpstreamStats(const std::string& name);

  // The tail of every child's log, for failure messages.
  std::string Logs() const;

 private:
  struct Upstream {
    Process process;
    uint16_t port = 0;
    uint16_t control_port = 0;  // TLS upstreams: the plaintext control port
    std::unique_ptr<HttpConnection> stats_conn;
    std::vector<std::string> extra_args;
    std::string host = "127.0.0.1";
    int starts = 0;
    uint16_t stats_port() const { return control_port != 0 ? control_port : port; }
  };

  // Sends GET `target` on NAME's stats connection, reconnecting once if the upstream dropped it.
  absl::StatusOr<HttpResponse> SendOnStatsConn(const std::string& name, std::string_view target);

  absl::StatusOr<std::string> WriteConfig(std::string_view config_template);

  std::string dir_;
  std::map<std::string, uint16_t> addresses_;
  std::map<std::string, std::string> hosts_;  // NAME -> listen host, when not 127.0.0.1
  std::map<std::string, Upstream> upstreams_;
  Process proxy_;
  uint16_t proxy_port_ = 0;
  uint16_t admin_port_ = 0;
  uint16_t control_port_ = 0;
  uint16_t tls_port_ = 0;
  int proxy_starts_ = 0;
};

}  // namespace rwtest

#endif  // RWPROXY_TESTS_SUPPORT_HARNESS_H_
