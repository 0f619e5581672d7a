// The compiled, ordered route list of one config snapshot: matchers (prefix / exact / RE2 regex
// path, methods, hosts, header and query conditions) and rewrite actions, built once at config
// time. Matching a request costs no compilation and no allocation except the rewritten target
// itself.
//
// Ownership: held by a Snapshot (immutable, shared by all workers through shared_ptr).
// Thread-safety: Build() runs on the control thread; const methods may be called from any thread.
#ifndef RWPROXY_SERVER_ROUTER_ROUTE_TABLE_H_
#define RWPROXY_SERVER_ROUTER_ROUTE_TABLE_H_

#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/time/time.h"
#include "config/compiled_route.h"
#include "config/spec.h"

namespace rwproxy {

// Read access to a request's header fields, whatever holds them (the codec's spans on the data
// plane, a list in Explain). Names compare case-insensitively.
class HeaderSource {
 public:
  virtual ~HeaderSource() = default;
  // The value of the first field named `name`, or nullopt.
  virtual std::optional<std::string_view> Find(std::string_view name) const = 0;
};

// What a request looks like to the router. `path` has no query; `query` is "" or starts with '?'.
struct RouteRequest {
  std::string_view method;
  std::string_view path;
  std::string_view query;
  const HeaderSource* headers = nullptr;
  // The authority as sent (absolute-form authority, else the Host field); "" means: the "host"
  // field of `headers`. Hosts match it without its port and trailing dot, ignoring case.
  std::string_view host;
};

struct RouteDecision {
  const CompiledRoute* route = nullptr;  // null: no route matched
  std::string target;  // the upstream request target (cluster) or the Location (redirect)
  // A %N value would have put a dot segment into the rewritten path: the request is refused
  // (400) rather than sent somewhere routing never decided on. `target` is then unusable.
  bool dot_segment_capture = false;
};

// Splits "/a/b?x=1" into path "/a/b" and query "?x=1".
void SplitTarget(std::string_view target, std::string_view* path, std::string_view* query);

class RouteTable {
 public:
  // Compiles every route, appending each problem to *errors with its field path
  // ("routes[2].match.path_regex"). cluster_index maps a cluster name to its index.
  static RouteTable Build(const std::vector<RouteSpec>& routes,
                          const absl::flat_hash_map<std::string, int>& cluster_index,
                          std::vector<FieldError>* errors);

  // First matching route, with its rewritten target computed.
  RouteDecision Route(const RouteRequest& request) const;

  // One condition of a route as Explain saw it: "path starts with /api/", "header user-agent
  // matches Mobile (inverted)", "host is one of shop.example.com, *.shop.example.com".
  struct ConditionCheck {
    std::string condition;
    bool matched = false;
    friend bool operator==(const ConditionCheck&, const ConditionCheck&) = default;
  };
  // Like Route(), but records for every route tried whether it matched, every condition it has
  // (all are evaluated) and, when it did not match, the first failing condition as `reason`
  // ("path does not start with /docs/", "host a.example is not one of shop.example.com").
  struct Check {
    std::string route;
    bool matched = false;
    std::string reason;
    std::vector<ConditionCheck> conditions;
  };
  // The capture groups the matched route's templates see.
  struct Captures {
    std::vector<std::string> path;       // $0..$N
    std::vector<std::string> condition;  // %0..%N; empty when the route has no regex condition
    std::string condition_source;        // that condition, e.g. "header user-agent matches (\w+)"
  };
  RouteDecision Explain(const RouteRequest& request, std::vector<Check>* checks,
                        Captures* captures = nullptr) const;

  size_t size() const { return routes_.size(); }
  const CompiledRoute& at(size_t index) const { return *routes_[index]; }

 private:
  std::vector<std::unique_ptr<CompiledRoute>> routes_;
};

}  // namespace rwproxy

#endif  // RWPROXY_SERVER_ROUTER_ROUTE_TABLE_H_
