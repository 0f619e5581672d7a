// Internal to server/router: whether one compiled route matches a request (path, methods, hosts,
// header and query conditions) and, for Explain, a description of every condition. Callers use
// route_table.h.
//
// Ownership: free functions over caller-owned values. Thread-safety: reentrant; any thread (the
// route is immutable).
#ifndef RWPROXY_SERVER_ROUTER_ROUTE_MATCH_H_
#define RWPROXY_SERVER_ROUTER_ROUTE_MATCH_H_

#include <string>
#include <string_view>
#include <vector>

#include "config/compiled_route.h"
#include "server/router/route_table.h"

namespace rwproxy::router_internal {

// The groups of one match, as views into the request: $0..$N from the path match and %0..%N
// from the route's capture condition (CompiledRoute::capture_from).
struct MatchGroups {
  std::string_view path[kMaxRouteGroups + 1];
  std::string_view condition[kMaxRouteGroups + 1];
};

// Explain's record of one route: every condition in order, whether it held, and the first
// failure's reason.
struct MatchTrace {
  std::vector<RouteTable::ConditionCheck> conditions;
  std::string reason;
};

// True when every condition of `route` holds; *groups is filled then. Without a trace, matching
// stops at the first failing condition and allocates nothing; with one, every condition is
// evaluated and recorded. Order: path, methods, hosts, headers (config order), query.
bool MatchRoute(const CompiledRoute& route, const RouteRequest& request, MatchGroups* groups,
                MatchTrace* trace);

// The condition that provides %N ("header user-agent matches Mobile/(\w+)", "query matches
// ..."), or "" when the route has none.
std::string DescribeCaptureCondition(const CompiledRoute& route);

// The host the request names, without its port and a trailing dot ("" when it names none).
std::string_view RequestHost(const RouteRequest& request);

}  // namespace rwproxy::router_internal

#endif  // RWPROXY_SERVER_ROUTER_ROUTE_MATCH_H_
