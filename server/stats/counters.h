// Per-worker counters. Each worker owns its own set and is the only thread that writes or reads
// them; the admin endpoint and the control API collect them by posting a task to every worker
// (Server::CollectStats), so the request path never touches memory another thread writes.
//
// Ownership: ClusterCounters live in a worker's ClusterManager, ListenerCounters and
// ServerCounters in the Worker. Thread-safety: owning worker thread only. StatsSnapshot is a
// plain value, merged on the collecting thread.
#ifndef RWPROXY_SERVER_STATS_COUNTERS_H_
#define RWPROXY_SERVER_STATS_COUNTERS_H_

#include <cstdint>
#include <map>
#include <string>

namespace rwproxy {

// X-macro lists keep the struct fields, the names in /stats, /metrics and GetStats in one place.
#define RW_CLUSTER_COUNTERS(X) \
  X(rq_total)                  \
  X(rq_2xx)                    \
  X(rq_3xx)                    \
  X(rq_4xx)                    \
  X(rq_5xx)                    \
  X(upstream_cx_total)         \
  X(upstream_rq_reused)        \
  X(upstream_rq_retry_stale)   \
  X(upstream_rq_overflow)      \
  X(upstream_cx_connect_fail)  \
  X(upstream_rq_timeout)       \
  X(upstream_rq_bad_response)  \
  X(upstream_rq_retry)         \
  X(upstream_rq_retry_success) \
  X(upstream_rq_retry_overflow) \
  X(upstream_rq_per_try_timeout) \
  X(panic_mode)

#define RW_LISTENER_COUNTERS(X) \
  X(downstream_cx_total)        \
  X(downstream_cx_active)       \
  X(downstream_rq_total)        \
  X(downstream_rq_bad)

#define RW_SERVER_COUNTERS(X) \
  X(no_route)                 \
  X(local_reply_redirect)     \
  X(local_reply_respond)

#define RW_DECLARE_COUNTER(name) uint64_t name = 0;

struct ClusterCounters {
  RW_CLUSTER_COUNTERS(RW_DECLARE_COUNTER)
  void CountResponse(unsigned status);
};
struct ListenerCounters {
  RW_LISTENER_COUNTERS(RW_DECLARE_COUNTER)
};
struct ServerCounters {
  RW_SERVER_COUNTERS(RW_DECLARE_COUNTER)
};

// Name -> value maps, summed over workers.
using CounterMap = std::map<std::string, uint64_t>;
struct StatsSnapshot {
  uint64_t config_version = 0;
  std::map<std::string, CounterMap> clusters;   // by cluster name; includes gauges
  std::map<std::string, CounterMap> listeners;  // by listener name
  CounterMap server;
  // Requests per route per backend, for routes with a weighted split: route -> cluster -> count.
  std::map<std::string, CounterMap> route_backends;
  // Per route (by name): rq_total (requests that matched it).
  std::map<std::string, CounterMap> routes;
  // Per endpoint ("10.0.0.5:8080"), summed over workers: pool figures and EndpointCounters.
  std::map<std::string, CounterMap> endpoints;

  void Add(const std::string& cluster, const ClusterCounters& c);
  void Add(const std::string& listener, const ListenerCounters& c);
  void Add(const ServerCounters& c);
  void Merge(const StatsSnapshot& other);
  // `cluster.app.rq_total: 3` lines, sorted.
  std::string ToText() const;
  // Prometheus exposition format: rwproxy_cluster_rq_total{cluster="app"} 3
  std::string ToPrometheus() const;
};

}  // namespace rwproxy

#endif  // RWPROXY_SERVER_STATS_COUNTERS_H_
