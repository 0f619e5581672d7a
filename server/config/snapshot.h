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
#include "server/config/spec.h"
#include "server/router/route_table.h"

namespace rwproxy {

struct EndpointInfo {
  std::string key;  // "host:port" as configured; pools are keyed by it
  boost::asio::ip::tcp::endpoint address;
};

struct ClusterInfo {
  std::string name;
  LbPolicy lb_policy = LbPolicy::kRoundRobin;
  absl::Duration connect_timeout;
  PoolSpec pool;
  std::vector<EndpointInfo> endpoints;
};

struct Snapshot {
  uint64_t version = 0;
  std::vector<ClusterInfo> clusters;
  RouteTable routes;
  HttpSpec http;  // path normalization options
};

// Compiles a spec: resolves endpoints, compiles regexes and templates. Every problem is appended
// to *errors with its field path; the result is null if there was any.
std::shared_ptr<const Snapshot> Compile(const ConfigSpec& spec, uint64_t version,
                                        std::vector<FieldError>* errors);

}  // namespace rwproxy

#endif  // RWPROXY_SERVER_CONFIG_SNAPSHOT_H_
