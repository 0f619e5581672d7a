// Plain C++ description of a configuration: what routes.yaml / config.proto say, already
// type-checked (durations parsed, enums resolved) but not yet compiled (no regexes, no resolved
// addresses). config/translate.h produces it from the proto; server/config/snapshot.h compiles it.
//
// Ownership: value types, copied freely. Thread-safety: none needed (immutable once built).
#ifndef RWPROXY_CONFIG_SPEC_H_
#define RWPROXY_CONFIG_SPEC_H_

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <variant>
#include <vector>

#include "absl/time/time.h"

namespace rwproxy {

// One problem with a config, named by its field path, e.g.
// {"routes[2].match.path_regex", "missing ): ^/api/(.*$"}.
struct FieldError {
  std::string field;
  std::string message;
};

enum class LbPolicy { kRoundRobin, kLeastRequest, kRandom };

struct PoolSpec {
  uint32_t max_connections = 1024;  // proxy-wide per endpoint (all workers together)
  uint32_t max_idle = 64;           // per worker per endpoint
  absl::Duration idle_timeout = absl::Seconds(55);
  uint32_t max_requests_per_connection = 0;  // 0 = unlimited
  uint32_t max_pending = 1024;               // waiters per worker per endpoint, then 503
};

struct EndpointSpec {
  std::string host;  // IP literal or name (resolved when the snapshot is compiled)
  uint16_t port = 0;
  std::string Key() const {
    bool v6 = host.find(':') != std::string::npos;
    return (v6 ? "[" + host + "]" : host) + ":" + std::to_string(port);
  }
};

// An inclusive status range of HealthCheckSpec::expected_statuses.
struct StatusRange {
  int low = 200;
  int high = 399;
  friend bool operator==(const StatusRange&, const StatusRange&) = default;
};

struct HealthCheckSpec {
  std::string path;
  absl::Duration interval = absl::Seconds(1);
  absl::Duration timeout = absl::Milliseconds(500);
  uint32_t unhealthy_threshold = 2;
  uint32_t healthy_threshold = 2;
  std::vector<StatusRange> expected_statuses{StatusRange{}};
  std::string host;  // empty: the endpoint's host:port
  friend bool operator==(const HealthCheckSpec&, const HealthCheckSpec&) = default;
};

struct OutlierSpec {
  uint32_t consecutive_5xx = 5;               // 0 = off
  uint32_t consecutive_connect_failures = 3;  // 0 = off
  absl::Duration base_ejection_time = absl::Seconds(10);
  absl::Duration max_ejection_time = absl::Seconds(300);
  uint32_t max_ejection_percent = 50;
  friend bool operator==(const OutlierSpec&, const OutlierSpec&) = default;
};

struct CircuitBreakerSpec {
  uint32_t max_requests = 1024;  // concurrent, proxy-wide
  // Concurrent, proxy-wide. The retry budget is the main limit; Envoy's default of 3 here lets a
  // single endpoint dying under load reach clients (every request in flight on it retries at once).
  uint32_t max_retries = 1024;
};

struct RetryBudgetSpec {
  double ratio = 0.2;
  uint32_t min_per_second = 10;
};

// TLS to a cluster's endpoints (cluster `tls:`). Files are read when the config is compiled.
enum class TlsVersion { kTls12, kTls13 };
struct UpstreamTlsSpec {
  std::string sni;          // server name sent and verified; empty: the endpoint's configured host
  bool verify = true;       // verify the chain (ca_file, else the system store) and the name
  std::string ca_file;      // PEM bundle of trusted CAs; empty: the system store
  std::string client_cert;  // PEM; with client_key, presented when the upstream asks (mTLS)
  std::string client_key;
  TlsVersion min_version = TlsVersion::kTls12;
  friend bool operator==(const UpstreamTlsSpec&, const UpstreamTlsSpec&) = default;
};

struct ClusterSpec {
  std::string name;
  std::vector<EndpointSpec> endpoints;
  LbPolicy lb_policy = LbPolicy::kRoundRobin;
  absl::Duration connect_timeout = absl::Seconds(1);
  PoolSpec pool;
  absl::Duration dns_refresh = absl::Seconds(5);
  std::optional<HealthCheckSpec> health_check;
  std::optional<OutlierSpec> outlier;
  CircuitBreakerSpec breakers;
  RetryBudgetSpec retry_budget;
  std::optional<UpstreamTlsSpec> tls;  // absent: plain TCP
};

// A condition on one request header or pseudo-header (":method", ":path").
struct HeaderCondition {
  enum class Kind { kExact, kRegex, kPresent };
  std::string name;  // lowercase
  Kind kind = Kind::kExact;
  std::string value;     // the exact value or the RE2 pattern
  bool present = true;   // kPresent: true = must be there, false = must be absent
  bool invert = false;
  friend bool operator==(const HeaderCondition&, const HeaderCondition&) = default;
};

// A condition on the raw query string (no '?').
struct QueryCondition {
  std::string regex;
  bool invert = false;
  friend bool operator==(const QueryCondition&, const QueryCondition&) = default;
};

struct MatchSpec {
  enum class Kind { kPrefix, kExact, kRegex };
  Kind kind = Kind::kPrefix;
  std::string path;  // the prefix, the exact path or the RE2 pattern
  bool case_insensitive = false;     // for the path only
  std::vector<std::string> methods;  // empty = any
  std::vector<std::string> hosts;    // lowercase, "example.com" or "*.example.com"; empty = any
  std::vector<HeaderCondition> headers;  // all must hold, in this order
  std::optional<QueryCondition> query;
};

enum class QueryMode { kKeep, kDiscard, kAppend };

// Templates may use $0..$9 (regex groups; $0 = the whole match, or the whole path for prefix and
// exact matches) and $$ for a literal '$'; with a regex condition, also %1..%9 and %%.
struct RewriteSpec {
  std::optional<std::string> path;    // replaces the whole path
  std::optional<std::string> prefix;  // replaces the matched prefix (path_prefix routes only)
  std::optional<std::string> host;    // replaces the Host header
  QueryMode query = QueryMode::kKeep;
  bool host_from_endpoint = false;  // Host = the picked endpoint, per try
};

// Header edits (request or response), applied in the order remove, set, add. Names lowercase.
struct HeaderOpsSpec {
  std::vector<std::pair<std::string, std::string>> set;
  std::vector<std::pair<std::string, std::string>> add;
  std::vector<std::string> remove;
  bool empty() const { return set.empty() && add.empty() && remove.empty(); }
};

struct LocationRewriteSpec {
  std::string from;
  std::string to;
};

struct ResponseHeaderOpsSpec : HeaderOpsSpec {
  std::vector<LocationRewriteSpec> rewrite_location;
  bool empty() const { return HeaderOpsSpec::empty() && rewrite_location.empty(); }
};

struct RedirectSpec {
  std::string location;  // template, as above
  int status = 302;      // 301, 302, 303, 307 or 308
};

struct RespondSpec {
  int status = 200;
  std::string body;
};

struct BackendSpec {
  std::string cluster;
  uint32_t weight = 1;
};

// `cluster: app` is one backend of weight 1; `backends:` a weighted split.
struct ClusterAction {
  std::vector<BackendSpec> backends;
};

// Bits of RetrySpec::on.
enum RetryOn : uint32_t {
  kRetryConnectFailure = 1,     // connect refused or timed out: nothing was sent
  kRetryReset = 2,              // the connection closed or reset before any response byte
  kRetryGatewayError = 4,       // the upstream answered 502, 503 or 504
  kRetryStatusCodes = 8,        // the upstream answered one of status_codes
  kRetry5xx = 16,               // any 5xx answer, and connect-failure, reset and per-try timeout
};

struct RetrySpec {
  uint32_t on = 0;  // RetryOn bits
  std::vector<int> status_codes;
  uint32_t max = 1;
  std::optional<absl::Duration> per_try_timeout;
  absl::Duration backoff_base = absl::Milliseconds(25);
  absl::Duration backoff_max = absl::Milliseconds(250);
  bool non_idempotent = false;
};

struct RouteSpec {
  std::string name;
  MatchSpec match;
  RewriteSpec rewrite;
  std::variant<ClusterAction, RedirectSpec, RespondSpec> action;
  absl::Duration timeout = absl::Seconds(15);
  std::optional<RetrySpec> retry;
  HeaderOpsSpec request_headers;
  ResponseHeaderOpsSpec response_headers;
  // Upgrade protocols this route tunnels (lowercase tokens, e.g. "websocket"); empty: an Upgrade
  // request is forwarded as a plain request without its Upgrade header.
  std::vector<std::string> upgrades;
  absl::Duration upgrade_idle_timeout = absl::Hours(1);  // a tunnel with no byte either way ends
};

// How request paths are normalized before routing (server/http/path_normalize.h).
enum class EscapedSlashes { kKeep, kReject, kDecode };
struct HttpSpec {
  bool normalize_path = true;   // decode %-escaped unreserved characters, remove dot segments
  bool merge_slashes = false;   // "//" -> "/"
  EscapedSlashes escaped_slashes = EscapedSlashes::kKeep;  // %2F and %5C
};

struct ConfigSpec {
  std::vector<ClusterSpec> clusters;
  std::vector<RouteSpec> routes;
  HttpSpec http;
};

}  // namespace rwproxy

#endif  // RWPROXY_CONFIG_SPEC_H_
