// A worker's view of the upstream clusters: one ConnPool per endpoint (keyed by its address, so
// pools belong to endpoints, not to configs or routes), load balancing over the endpoints the
// EndpointMonitor says are available (HostSet), circuit breakers, the retry budget, outlier
// observations and per-cluster counters. Apply() and SetHosts() reconcile the pools: unchanged
// endpoints keep their warm connections (new pool limits apply in place), removed endpoints
// drain, unavailable ones lose their idle connections.
//
// Ownership: one per Worker. Thread-safety: the owning worker thread only; EndpointRegistry is
// the one shared piece and locks only when a pool or cluster first appears (config time).
#ifndef RWPROXY_SERVER_UPSTREAM_CLUSTER_MANAGER_H_
#define RWPROXY_SERVER_UPSTREAM_CLUSTER_MANAGER_H_

#include <atomic>
#include <memory>
#include <mutex>
#include <random>
#include <span>
#include <string>

#include "absl/container/flat_hash_map.h"
#include "absl/container/node_hash_map.h"
#include "server/config/snapshot.h"
#include "server/stats/counters.h"
#include "server/upstream/conn_pool.h"
#include "server/upstream/host_set.h"
#include "server/upstream/retry.h"

namespace rwproxy {

// Proxy-wide per cluster: requests and retries in flight (circuit breakers).
struct ClusterShared {
  std::atomic<uint32_t> requests{0};
  std::atomic<uint32_t> retries{0};
};

// Process-wide: one EndpointShared per endpoint and one ClusterShared per cluster, shared by all
// workers and the monitor. Owned by the Server; any thread.
class EndpointRegistry {
 public:
  std::shared_ptr<EndpointShared> Get(const std::string& key);
  std::shared_ptr<ClusterShared> GetCluster(const std::string& name);

 private:
  std::mutex mu_;
  absl::flat_hash_map<std::string, std::shared_ptr<EndpointShared>> map_;
  absl::flat_hash_map<std::string, std::shared_ptr<ClusterShared>> clusters_;
};

enum class OutlierKind { k5xx, kConnectFailure };

// Told when an endpoint's consecutive errors reach a cluster's outlier threshold (implemented by
// the EndpointMonitor). Called from worker threads; must not block.
class OutlierSink {
 public:
  virtual ~OutlierSink() = default;
  virtual void ReportOutlier(const std::string& cluster, const std::string& key,
                             OutlierKind kind) = 0;
};

// One request or retry counted against a circuit breaker; gives its slot back when destroyed.
class BreakerSlot {
 public:
  BreakerSlot() = default;
  explicit BreakerSlot(std::atomic<uint32_t>* counter) : counter_(counter) {}
  BreakerSlot(BreakerSlot&& other) noexcept : counter_(other.counter_) { other.counter_ = nullptr; }
  BreakerSlot& operator=(BreakerSlot&& other) noexcept {
    std::swap(counter_, other.counter_);
    return *this;
  }
  ~BreakerSlot() {
    if (counter_) counter_->fetch_sub(1, std::memory_order_relaxed);
  }
  explicit operator bool() const { return counter_ != nullptr; }

 private:
  std::atomic<uint32_t>* counter_ = nullptr;
};

class ClusterManager {
 public:
  ClusterManager(Executor executor, Poller* poller, BufferPool* buffers,
                 EndpointRegistry* registry);

  // Wiring, before the worker starts: where outlier reports go; how many workers share
  // min_per_second of each retry budget; the random seed (0: from the system).
  void SetOutlierSink(OutlierSink* sink) { sink_ = sink; }
  void SetWorkerShare(int workers, uint64_t seed);

  // A new config with the host sets computed for it; reconciles the pools.
  void Apply(std::shared_ptr<const Snapshot> snapshot, std::shared_ptr<const HostMap> hosts);
  // Newer health, ejection or DNS results (older generations are ignored).
  void SetHosts(std::shared_ptr<const HostMap> hosts);

  // This worker's state for one cluster (by name). Entries are never erased, so a request may
  // keep the reference for its whole life: one lookup per request.
  struct ClusterState {
    ClusterCounters counters;
    uint64_t next = 0;                      // round robin position
    std::shared_ptr<const HostSet> hosts;   // null: the snapshot's endpoints, all available
    std::shared_ptr<ClusterShared> shared;  // circuit breakers
    RetryBudget budget;
  };
  ClusterState& State(const ClusterInfo& cluster);

  struct Pick {
    ConnPool* pool = nullptr;
    ClusterCounters* counters = nullptr;
  };
  // Picks an available endpoint of `cluster` by its LB policy, other than those in `tried` when
  // there is one (retries; they do not advance round robin). In panic mode (none available) it
  // picks among all of them. The pool stays valid until the caller next suspends, unless it
  // holds a Lease or waits in Acquire (a drained, empty pool is deleted by the sweep).
  Pick Choose(const ClusterInfo& cluster, ClusterState& state,
              std::span<ConnPool* const> tried = {});
  Pick Choose(const ClusterInfo& cluster, std::span<ConnPool* const> tried = {}) {
    return Choose(cluster, State(cluster), tried);
  }
  bool HasEndpoints(const ClusterInfo& cluster, const ClusterState& state) const {
    return state.hosts && !state.hosts->endpoints.empty() ? true : !cluster.endpoints.empty();
  }
  // The local 503's text when !HasEndpoints: "no resolved endpoint in cluster app
  // (app.local:8080 does not resolve yet)" when names are waiting for DNS, else "cluster app has
  // no endpoints". Only on that failure path (it allocates).
  std::string NoEndpointsReason(const ClusterInfo& cluster, const ClusterState& state) const;
  ClusterCounters* Counters(const std::string& cluster) { return &clusters_[cluster].counters; }

  // A new request to `cluster`: an empty slot means max_requests is reached (circuit open).
  BreakerSlot AdmitRequest(const ClusterInfo& cluster, ClusterState& state);
  BreakerSlot AdmitRequest(const ClusterInfo& cluster) {
    return AdmitRequest(cluster, State(cluster));
  }
  // A retry: needs the retry budget and a max_retries slot; refusals are counted.
  BreakerSlot AdmitRetry(const ClusterInfo& cluster, ClusterState& state);
  BreakerSlot AdmitRetry(const ClusterInfo& cluster) { return AdmitRetry(cluster, State(cluster)); }
  // The outcome of one try on `pool`'s endpoint (outlier detection, per-endpoint counters).
  void Observe(const ClusterInfo& cluster, ConnPool* pool, TryResult result, int status);
  // Requests per backend of a weighted split.
  void CountBackend(const std::string& route, const std::string& cluster) {
    ++route_backends_[route][cluster];
  }
  uint64_t Random() { return rng_(); }

  // Idle timeouts, freed capacity, and deleting drained pools that have emptied.
  void Sweep(Clock::time_point now);
  // Worker shutdown: every request queued for a connection gives up now.
  void AbortWaiters() {
    for (auto& [key, pool] : pools_) pool->AbortWaiters();
  }
  // Adds this worker's counters and gauges (per cluster of the live snapshot) to *out.
  void Collect(StatsSnapshot* out) const;

 private:
  // The pool for `endpoint` as an endpoint of `cluster` (PoolKey: the address, and for TLS the
  // peer identity). The key is built in key_scratch_: no allocation per request.
  ConnPool* PoolFor(const ClusterInfo& cluster, const EndpointInfo& endpoint);
  void Reconcile();

  Executor executor_;
  Poller* poller_;
  BufferPool* buffers_;
  EndpointRegistry* registry_;
  OutlierSink* sink_ = nullptr;
  double budget_share_ = 1.0;  // this worker's share of min_per_second
  std::shared_ptr<const Snapshot> snapshot_;
  std::shared_ptr<const HostMap> hosts_;
  absl::flat_hash_map<std::string, std::unique_ptr<ConnPool>> pools_;
  absl::node_hash_map<std::string, ClusterState> clusters_;  // stable addresses
  absl::node_hash_map<std::string, absl::flat_hash_map<std::string, uint64_t>> route_backends_;
  bool applying_ = false;
  std::string key_scratch_;
  std::mt19937_64 rng_{std::random_device{}()};
};

}  // namespace rwproxy

#endif  // RWPROXY_SERVER_UPSTREAM_CLUSTER_MANAGER_H_
