// The proxy-wide view of endpoint health: one active health checker per endpoint of a cluster
// that asks for checks (not one per worker), outlier ejections from errors every worker reports,
// and DNS refresh of hostname endpoints. Whenever the set of available endpoints changes it
// builds an immutable HostMap and hands it to `publish` (the Server posts it to every worker),
// so the request path reads health without a lock.
//
// DNS (EndpointNames): every hostname is looked up again every dns_refresh on the monitor's DNS
// thread; a failure keeps the last addresses. A name that did not resolve when the config was
// compiled has no endpoint yet: it is retried sooner (1 s, 2 s, 4 s, ... up to dns_refresh),
// logged once (warning) when it first fails and once (info) when it resolves, counted in the
// `dns_unresolved` gauge and listed in Status(); when it resolves, its addresses join the
// cluster in a new HostMap.
//
// Health of an endpoint, per cluster: `unhealthy` after unhealthy_threshold consecutive failed
// checks (healthy again after healthy_threshold successes), `ejected` by outlier detection until
// its ejection time passes, else `healthy`. New endpoints start healthy. An apply keeps the
// state of every endpoint that stays (same cluster, same address), even when check or outlier
// settings change.
//
// Ownership: owned by the Server; its own thread (io_context) plus one thread for blocking name
// resolution. Thread-safety: every public method may be called from any thread except the
// monitor's own; Update, Status and Collect wait for the monitor thread.
#ifndef RWPROXY_SERVER_UPSTREAM_ENDPOINT_MONITOR_H_
#define RWPROXY_SERVER_UPSTREAM_ENDPOINT_MONITOR_H_

#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "absl/container/node_hash_map.h"
#include "boost/asio/io_context.hpp"
#include "boost/asio/steady_timer.hpp"
#include "boost/asio/thread_pool.hpp"
#include "server/config/snapshot.h"
#include "server/stats/counters.h"
#include "server/upstream/cluster_manager.h"
#include "server/upstream/cluster_status.h"
#include "server/upstream/endpoint_names.h"
#include "server/upstream/health_checker.h"
#include "server/upstream/host_set.h"
#include "server/upstream/outlier.h"

namespace rwproxy {

class EndpointMonitor : public OutlierSink {
 public:
  using Publish = std::function<void(std::shared_ptr<const HostMap>)>;
  EndpointMonitor(EndpointRegistry* registry, Publish publish);
  ~EndpointMonitor() override;

  // Reconciles with a new config and returns the host map for it (the caller publishes it along
  // with the snapshot). Later changes go through `publish`. After Stop, Update, Status and
  // Collect return empty results.
  std::shared_ptr<const HostMap> Update(std::shared_ptr<const Snapshot> snapshot);
  // From workers: an endpoint reached an outlier threshold. Posts; never blocks.
  void ReportOutlier(const std::string& cluster, const std::string& key, OutlierKind kind) override;
  // Health view of every cluster (connections and pool counters are filled in by the Server).
  std::vector<ClusterStatus> Status();
  // Adds health_check_success/failure, outlier_ejections_total/active, dns_resolution_failure,
  // dns_unresolved and endpoints_healthy per cluster.
  void Collect(StatsSnapshot* out);
  void Stop();

 private:
  struct Endpoint {
    EndpointInfo info;
    bool check_failed = false;  // by active checks
    uint32_t successes = 0;
    uint32_t failures = 0;
    EjectionState ejection;
    int64_t since_unix_ms = 0;
    std::string reason;
    uint64_t checks_ok = 0;
    uint64_t checks_failed = 0;
    std::shared_ptr<HealthChecker> checker;
    bool available() const { return !check_failed && !ejection.ejected; }
  };
  struct Cluster {
    std::shared_ptr<const ClusterInfo> info;  // its config (specs, configured endpoints)
    std::vector<std::unique_ptr<Endpoint>> endpoints;
    EndpointNames names;  // hostnames: last good addresses, unresolved ones, lookup schedule
    bool dns_pending = false;
    uint64_t dns_generation = 0;  // results of an older config's lookup are ignored
    uint64_t health_check_success = 0;
    uint64_t health_check_failure = 0;
    uint64_t ejections_total = 0;
    uint64_t dns_failures = 0;
  };

  template <typename F>
  auto RunOnMonitor(F f) -> decltype(f());
  void Reconcile(const Snapshot& snapshot);
  // Replaces a cluster's endpoints with `endpoints`, keeping the state of those that stay.
  void SetEndpoints(const std::string& name, Cluster* cluster,
                    const std::vector<EndpointInfo>& endpoints);
  void StartChecker(const std::string& cluster, Cluster* state, Endpoint* endpoint);
  void OnCheck(const std::string& cluster, const std::string& key, HealthChecker* checker, bool ok,
               const std::string& detail);
  void OnOutlier(const std::string& cluster, const std::string& key, OutlierKind kind);
  void Tick();
  void StartDns(const std::string& name, Cluster* cluster, std::vector<EndpointSpec> names,
                bool full);
  void OnDnsAnswers(const std::string& name, uint64_t generation,
                    const std::vector<EndpointSpec>& names, const std::vector<Resolution>& answers,
                    bool full);
  void Changed() { changed_ = true; }
  std::shared_ptr<const HostMap> Build();

  EndpointRegistry* registry_;
  Publish publish_;
  boost::asio::io_context io_;
  boost::asio::steady_timer tick_{io_};
  boost::asio::thread_pool dns_{1};
  absl::node_hash_map<std::string, Cluster> clusters_;
  uint64_t generation_ = 0;
  uint64_t dns_generation_ = 0;
  bool changed_ = false;
  bool stopped_ = false;  // monitor thread only
  std::mutex lifecycle_mu_;
  bool stopping_ = false;  // guarded by lifecycle_mu_: no more RunOnMonitor posts
  std::thread thread_;
};

}  // namespace rwproxy

#endif  // RWPROXY_SERVER_UPSTREAM_ENDPOINT_MONITOR_H_
