// One immutable, compiled configuration: the route table plus the clusters and their resolved
// endpoints. Workers hold a shared_ptr to the snapshot they serve; a request keeps the snapshot it
// started with, so no worker ever sees half a config.
//
// A hostname that does not resolve when the config is compiled (DNS down at container start, a
// Service not created yet) is not an error: the cluster serves the endpoints that did resolve,
// the name is listed in ClusterInfo::unresolved, and the EndpointMonitor keeps looking it up in
// the background until it joins the cluster.
//
// Ownership: created by Compile() on the control thread, then shared (shared_ptr<const>) by the
// publisher, every worker and every in-flight request. Thread-safety: immutable; any thread.
#ifndef RWPROXY_SERVER_CONFIG_SNAPSHOT_H_
#define RWPROXY_SERVER_CONFIG_SNAPSHOT_H_

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/time/time.h"
#include "boost/asio/ip/tcp.hpp"
#include "config/spec.h"
#include "server/router/route_table.h"
#include "server/tls/client_tls.h"

namespace rwproxy {

struct EndpointInfo {
  std::string key;  // "10.0.0.5:8080", "[::1]:80": the address; pools and health are keyed by it
  boost::asio::ip::tcp::endpoint address;
  std::string source;  // as configured: "app.local:8080" (the Host for HTTP/1.0 clients)
};

// "10.0.0.5:8080" or "[::1]:80".
std::string EndpointKey(const boost::asio::ip::tcp::endpoint& address);

// A configured hostname endpoint that had no address when the snapshot was compiled.
struct UnresolvedEndpoint {
  std::string source;  // as configured: "app.local:8080"
  std::string error;   // "cannot resolve 'app.local': Host not found"
};

struct ClusterInfo {
  std::string name;
  LbPolicy lb_policy = LbPolicy::kRoundRobin;
  absl::Duration connect_timeout;
  PoolSpec pool;
  // Every address of every configured endpoint that resolved at compile time. The
  // EndpointMonitor keeps the live set (DNS refresh and retries, health) and posts it to workers
  // as HostSets.
  std::vector<EndpointInfo> endpoints;
  std::vector<EndpointSpec> configured;  // hostnames are re-resolved every dns_refresh
  std::vector<UnresolvedEndpoint> unresolved;  // configured names without an address, in order
  std::string default_host;  // the first configured endpoint ("app.local:8080"): HTTP/1.0 Host
  absl::Duration dns_refresh = absl::Seconds(5);
  std::optional<HealthCheckSpec> health_check;
  std::optional<OutlierSpec> outlier;
  CircuitBreakerSpec breakers;
  RetryBudgetSpec retry_budget;
  std::shared_ptr<const UpstreamTls> tls;  // null: plain TCP to the endpoints
};

// Which pool serves `endpoint` for `cluster`: the address, plus for TLS the settings and server
// name (client_tls.h), so a connection is only reused for the same peer identity.
std::string PoolKey(const ClusterInfo& cluster, const EndpointInfo& endpoint);

struct Snapshot {
  uint64_t version = 0;
  std::vector<ClusterInfo> clusters;
  RouteTable routes;
  HttpSpec http;  // path normalization options
};

// Compiles a spec: compiles regexes and templates, then resolves the endpoints (every address of a
// name; server/upstream/resolver.h), all names together, waiting at most `resolve_deadline` for
// them. A name with no address by then is listed in its cluster's `unresolved`, not an error.
// Every problem is appended to *errors with its field path; the result is null if there was any
// (and then nothing is resolved). Blocks: call it on a control thread, never on a worker.
inline constexpr absl::Duration kResolveDeadline = absl::Seconds(2);
std::shared_ptr<const Snapshot> Compile(const ConfigSpec& spec, uint64_t version,
                                        std::vector<FieldError>* errors,
                                        absl::Duration resolve_deadline = kResolveDeadline);

}  // namespace rwproxy

#endif  // RWPROXY_SERVER_CONFIG_SNAPSHOT_H_
