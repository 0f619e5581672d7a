// One route compiled at config time: its regexes (the path's and the header and query
// conditions'; RE2, with a program-size cap), its rewrite template (group references checked
// against the regexes) and its backends (cluster references checked). Compiling needs no DNS, so
// rwctl validate --offline and the server run the same checks; the router
// (server/router/route_table.h) only matches and expands.
//
// Ownership: a CompiledRoute is owned by its RouteTable (inside an immutable Snapshot) or by the
// caller of CompileRoute. Thread-safety: CompileRoute is reentrant; a built route is immutable and
// its const methods may be called from any thread.
#ifndef RWPROXY_CONFIG_COMPILED_ROUTE_H_
#define RWPROXY_CONFIG_COMPILED_ROUTE_H_

#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/time/time.h"
#include "config/spec.h"
#include "config/template.h"
#include "re2/re2.h"

namespace rwproxy {

inline constexpr int kMaxRouteGroups = 9;          // $1..$9, %1..%9
inline constexpr int kMaxRegexProgramSize = 4096;  // RE2 program size cap (bounded memory)

// One condition of match.headers, its regex compiled.
struct CompiledHeaderCondition {
  enum class Source { kHeader, kMethod, kPath };  // a field, or the pseudo-header :method / :path
  HeaderCondition spec;
  Source source = Source::kHeader;
  std::unique_ptr<RE2> regex;  // kRegex only
};

// One target of a route: a cluster and its share of the traffic.
struct CompiledBackend {
  int cluster_index = -1;  // into Snapshot::clusters
  std::string cluster_name;
  uint32_t weight = 1;
  uint64_t cumulative = 0;  // sum of the weights up to and including this backend
};

struct CompiledRoute {
  enum class Action { kCluster, kRedirect, kRespond };
  std::string name;
  uint32_t index = 0;  // position in its table (per-route counters)
  MatchSpec::Kind kind = MatchSpec::Kind::kPrefix;
  std::string path;               // prefix or exact path, as configured
  bool case_insensitive = false;  // the path compares ignoring ASCII case (the regex too)
  std::unique_ptr<RE2> regex;     // kRegex only
  int group_count = 0;            // capture groups the match offers ($1..$N)
  std::vector<std::string> methods;
  std::vector<std::string> hosts;                // lowercase; "example.com" or "*.example.com"
  std::vector<CompiledHeaderCondition> headers;  // all must hold, in config order
  std::optional<QueryCondition> query;
  std::unique_ptr<RE2> query_regex;  // with `query`

  // The condition whose groups are %0..%N: the last regex condition that is not inverted, in
  // the order headers, then query. kNone: the route has none, and '%' in templates is literal.
  enum class CaptureFrom { kNone, kHeader, kQuery };
  CaptureFrom capture_from = CaptureFrom::kNone;
  int capture_index = -1;       // kHeader: index into `headers`
  int capture_group_count = 0;  // its capture groups (%1..%N)
  // The regex that provides %N, or null.
  const RE2* capture_regex() const {
    switch (capture_from) {
      case CaptureFrom::kHeader:
        return headers[capture_index].regex.get();
      case CaptureFrom::kQuery:
        return query_regex.get();
      case CaptureFrom::kNone:
        break;
    }
    return nullptr;
  }

  Action action = Action::kCluster;
  std::vector<CompiledBackend> backends;  // kCluster: one, or a weighted split
  uint64_t total_weight = 0;
  std::optional<RewriteTemplate> path_rewrite;  // rewrite.path, or the redirect location
  std::string template_text;                    // its source, as configured (config_dump)
  std::optional<std::string> prefix_rewrite;
  std::optional<std::string> host_rewrite;
  bool host_from_endpoint = false;  // Host = the endpoint of each try (upstream_exchange.cc)
  QueryMode query_mode = QueryMode::kKeep;  // rewrite.query (cluster routes)
  int status = 0;                           // redirect or respond status
  std::string body;                         // respond body
  absl::Duration timeout;
  std::optional<RetrySpec> retry;
  HeaderOpsSpec request_headers;           // validated; names lowercase
  ResponseHeaderOpsSpec response_headers;  // validated; names lowercase
  // kCluster: the Upgrade protocols tunnelled (lowercase tokens); empty: none. A tunnel with no
  // byte either way for upgrade_idle_timeout ends.
  std::vector<std::string> upgrades;
  absl::Duration upgrade_idle_timeout = absl::Hours(1);

  // The backend for a uniformly random `draw` (any 64-bit value): weighted, deterministic.
  const CompiledBackend& PickBackend(uint64_t draw) const {
    if (backends.size() == 1) return backends.front();
    const uint64_t point = draw % total_weight;
    for (const CompiledBackend& backend : backends) {
      if (point < backend.cumulative) return backend;
    }
    return backends.back();
  }
};

// Compiles routes[index] (`spec`); cluster_index maps a cluster name to its index. Appends every
// problem to *errors with its field path ("routes[2].match.path_regex",
// "routes[2].match.headers[1].regex", "routes[2].match.query.regex", "routes[2].rewrite.path")
// and returns null if there was any. Every regex is held to kMaxRegexProgramSize and
// kMaxRouteGroups; case_insensitive compiles the path regex without case sensitivity (header and
// query regexes are not affected: write (?i) there).
std::unique_ptr<CompiledRoute> CompileRoute(const RouteSpec& spec, int index,
                                            const absl::flat_hash_map<std::string, int>& clusters,
                                            std::vector<FieldError>* errors);

}  // namespace rwproxy

#endif  // RWPROXY_CONFIG_COMPILED_ROUTE_H_
