// What `GET /clusters` (admin) and `GetClusters` (control API, `rwctl get clusters`) report: every
// cluster of the live config, every endpoint with its health (healthy | unhealthy | ejected),
// since when and why, its connections and its counters, and every configured name that has no
// address yet (unresolved: its last error and when it is looked up next). Built by
// Server::Clusters() from the EndpointMonitor's health view and the workers' per-endpoint pool
// figures.
//
// Ownership: plain values. Thread-safety: none needed.
#ifndef RWPROXY_SERVER_UPSTREAM_CLUSTER_STATUS_H_
#define RWPROXY_SERVER_UPSTREAM_CLUSTER_STATUS_H_

#include <cstdint>
#include <string>
#include <vector>

#include "server/stats/counters.h"

namespace rwproxy {

struct EndpointStatus {
  std::string address;             // "10.0.0.5:8080": the pool key
  std::string source;              // as configured: "app.default.svc:8080" or the address itself
  std::string health = "healthy";  // healthy | unhealthy | ejected | unresolved
  int64_t since_unix_ms = 0;       // when it entered that state (0: since it was added)
  std::string reason;      // why it is unhealthy, ejected or unresolved (the lookup's error)
  int64_t retry_unix_ms = 0;  // unresolved: when the name is looked up next
  uint32_t ejections = 0;  // consecutive ejections (the ejection time doubles with each)
  uint64_t cx_active = 0;  // open connections, all workers (busy + idle)
  uint64_t cx_idle = 0;
  uint64_t rq_pending = 0;  // requests waiting for a connection
  CounterMap counters;      // rq_total, rq_5xx, cx_connect_fail, health_check_success, ...
};

struct ClusterStatus {
  std::string name;
  bool panic = false;  // no endpoint available: traffic goes to all of them
  std::vector<EndpointStatus> endpoints;
  // Configured names with no address yet (health "unresolved", no address, source = the name;
  // counters: dns_resolution_failure). They are not endpoints until they resolve.
  std::vector<EndpointStatus> unresolved;
};

// {"clusters":[{"name":"app","panic":false,"endpoints":[{"address":...}],"unresolved":[{"source":
// "app.local:8080","health":"unresolved","since_unix_ms":...,"reason":...,"retry_unix_ms":...,
// "counters":{"dns_resolution_failure":3}}]}]}
std::string ClustersToJson(const std::vector<ClusterStatus>& clusters);
// One line per endpoint, aligned, for people (`/clusters?format=text`).
std::string ClustersToText(const std::vector<ClusterStatus>& clusters);

}  // namespace rwproxy

#endif  // RWPROXY_SERVER_UPSTREAM_CLUSTER_STATUS_H_
