// Plain C++ description of a configuration: what routes.yaml / config.proto say, already
// type-checked (durations parsed, enums resolved) but not yet compiled (no regexes, no resolved
// addresses). control/translate.h produces it from the proto; server/config/snapshot.h compiles it.
//
// Ownership: value types, copied freely. Thread-safety: none needed (immutable once built).
#ifndef RWPROXY_SERVER_CONFIG_SPEC_H_
#define RWPROXY_SERVER_CONFIG_SPEC_H_

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

struct ClusterSpec {
  std::string name;
  std::vector<EndpointSpec> endpoints;
  LbPolicy lb_policy = LbPolicy::kRoundRobin;
  absl::Duration connect_timeout = absl::Seconds(1);
  PoolSpec pool;
};

struct MatchSpec {
  enum class Kind { kPrefix, kExact, kRegex };
  Kind kind = Kind::kPrefix;
  std::string path;  // the prefix, the exact path or the RE2 pattern
  std::vector<std::string> methods;                           // empty = any
  std::vector<std::pair<std::string, std::string>> headers;  // name (any case) -> exact value
};

// Templates may use $0..$9 (regex groups; $0 = the whole match, or the whole path for prefix and
// exact matches) and $$ for a literal '$'.
struct RewriteSpec {
  std::optional<std::string> path;    // replaces the whole path
  std::optional<std::string> prefix;  // replaces the matched prefix (path_prefix routes only)
  std::optional<std::string> host;    // replaces the Host header
};

struct RedirectSpec {
  std::string location;  // template, as above
  int status = 302;      // 301, 302, 303, 307 or 308
};

struct RespondSpec {
  int status = 200;
  std::string body;
};

struct ClusterAction {
  std::string cluster;
};

struct RouteSpec {
  std::string name;
  MatchSpec match;
  RewriteSpec rewrite;
  std::variant<ClusterAction, RedirectSpec, RespondSpec> action;
  absl::Duration timeout = absl::Seconds(15);
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

#endif  // RWPROXY_SERVER_CONFIG_SPEC_H_
