// One immutable, compiled configuration: the route table plus the clusters and their resolved
// endpoints. Workers hold a shared_ptr to the snapshot they serve; a request keeps the snapshot it
// started with, so no worker ever sees half a config.
//
// Ownership: created by Compile() on the control thread, then shared (shared_ptr<const>) by the
// publisher, every worker and every in-flight request. Thread-safety: immutable; any thread.
#ifndef RWPROXY_SERVER_CONFIG_SNAPSHOT_H_
#define RWPROXY_SERVER_CONFIG_SNAPSHOT_H_

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "boost/asio/ip/tcp.hpp"
#include "config/spec.h"
#include "server/router/route_table.h"

namespace rwproxy {

struct EndpointInfo {
  std::string key;  // "10.0.0.5:8080", "[::1]:80": the address; pools and health are keyed by it
  boost::asio::ip::tcp::endpoint address;
  std::string source;  // as configured: "app.local:8080" (the Host for HTTP/1.0 clients)
};

// "10.0.0.5:8080" or "[::1]:80".
std::string EndpointKey(const boost::asio::ip::tcp::endpoint& address);

struct ClusterInfo {
  std::string name;
  LbPolicy lb_policy = LbPolicy::kRoundRobin;
  absl::Duration connect_timeout;
  PoolSpec pool;
  // Every address of every configured endpoint at compile time. The EndpointMonitor keeps the
  // live set (DNS refresh, health) and posts it to workers as HostSets.
  std::vector<EndpointInfo> endpoints;
  std::vector<EndpointSpec> configured;  // hostnames are re-resolved every dns_refresh
  absl::Duration dns_refresh = absl::Seconds(5);
  std::optional<HealthCheckSpec> health_check;
  std::optional<OutlierSpec> outlier;
  CircuitBreakerSpec breakers;
  RetryBudgetSpec retry_budget;
};

struct Snapshot {
  uint64_t version = 0;
  std::vector<ClusterInfo> clusters;
  RouteTable routes;
  HttpSpec http;  // path normalization options
};

// Compiles a spec: resolves endpoints (every address of a name; server/upstream/resolver.h), compiles regexes and templates. Every problem is appended
// to *errors with its field path; the result is null if there was any.
std::shared_ptr<const Snapshot> Compile(const ConfigSpec& spec, uint64_t version,
                                        std::vector<FieldError>* errors);

}  // namespace rwproxy

#endif  // RWPROXY_SERVER_CONFIG_SNAPSHOT_H_
