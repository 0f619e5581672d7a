// The compiled, ordered route list of one config snapshot: matchers (prefix / exact / RE2 regex,
// methods, headers) and rewrite actions, built once at config time. Matching a request costs no
// compilation and no allocation except the rewritten target itself.
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
};

struct RouteDecision {
  const CompiledRoute* route = nullptr;  // null: no route matched
  std::string target;  // the upstream request target (cluster) or the Location (redirect)
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

  // Like Route(), but records for every route tried why it did not match (for Explain).
  struct Check {
    std::string route;
    bool matched = false;
    std::string reason;
  };
  RouteDecision Explain(const RouteRequest& request, std::vector<Check>* checks) const;

  size_t size() const { return routes_.size(); }
  const CompiledRoute& at(size_t index) const { return *routes_[index]; }

 private:
  RouteDecision Decide(const CompiledRoute& route, const RouteRequest& request,
                       const std::string_view* groups) const;
  std::vector<std::unique_ptr<CompiledRoute>> routes_;
};

}  // namespace rwproxy

#endif  // RWPROXY_SERVER_ROUTER_ROUTE_TABLE_H_
