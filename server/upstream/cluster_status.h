// What `GET /clusters` (admin) and `GetClusters` (control API, `rwctl get clusters`) report: every
// cluster of the live config, every endpoint with its health (healthy | unhealthy | ejected),
// since when and why, its connections and its counters. Built by Server::Clusters() from the
// EndpointMonitor's health view and the workers' per-endpoint pool figures.
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
  std::string health = "healthy";  // healthy | unhealthy | ejected
  int64_t since_unix_ms = 0;       // when it entered that state (0: since it was added)
  std::string reason;      // why it is unhealthy or ejected ("2 consecutive failed checks: 503")
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
};

// {"clusters":[{"name":"app","panic":false,"endpoints":[{"address":...}]}]}
std::string ClustersToJson(const std::vector<ClusterStatus>& clusters);
// One line per endpoint, aligned, for people (`/clusters?format=text`).
std::string ClustersToText(const std::vector<ClusterStatus>& clusters);

}  // namespace rwproxy

#endif  // RWPROXY_SERVER_UPSTREAM_CLUSTER_STATUS_H_
