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

namespace re2 {
class RE2;
}

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
  X(upstream_tls_handshakes)    \
  X(upstream_tls_handshake_fail) \
  X(panic_mode)

#define RW_LISTENER_COUNTERS(X) \
  X(downstream_cx_total)        \
  X(downstream_cx_active)       \
  X(downstream_rq_total)        \
  X(downstream_rq_bad)          \
  X(downstream_tls_handshakes)  \
  X(downstream_tls_handshake_fail) \
  X(downstream_tls_resumed)     \
  X(downstream_tls_plaintext)

#define RW_SERVER_COUNTERS(X) \
  X(no_route)                 \
  X(local_reply_redirect)     \
  X(local_reply_respond)      \
  X(upgrades_total)           \
  X(upgrades_active)

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
  // False once FilterStats has dropped server.config_version: ToText and ToPrometheus then leave
  // it out (ToJson always has config_version: it names the config the numbers belong to).
  bool show_config_version = true;
  // `cluster.app.rq_total: 3` lines, sorted.
  std::string ToText() const;
  // Prometheus exposition format: rwproxy_cluster_rq_total{cluster="app"} 3
  std::string ToPrometheus() const;
  // One JSON object, every map sorted, every value a JSON number (admin /stats?format=json):
  // {"config_version":N,"clusters":{"app":{"rq_total":1,...}},"listeners":{"proxy":{...}},
  //  "server":{...},"routes":{"api":{"rq_total":5}},"route_backends":{"api":{"app":90}},
  //  "endpoints":{"127.0.0.1:8081":{"cx_active":1,...}}}
  std::string ToJson() const;
};

// The counters of `stats` whose dotted name `filter` matches (RE2 partial match, so anchor with
// ^...$ for a whole name). The names are those /stats prints: cluster.<c>.<n>, listener.<l>.<n>,
// server.<n> (server.config_version included), route.<r>.<n>, route.<r>.backend.<c>.rq_total
// and endpoint.<address>.<n>. Groups with no counter left are dropped.
StatsSnapshot FilterStats(const StatsSnapshot& stats, const re2::RE2& filter);

}  // namespace rwproxy

#endif  // RWPROXY_SERVER_STATS_COUNTERS_H_
