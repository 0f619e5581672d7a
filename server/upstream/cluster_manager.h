// A worker's view of the upstream clusters: one ConnPool per endpoint (keyed by "host:port", so
// pools belong to endpoints, not to configs or routes), load balancing, and per-cluster counters.
// Apply() reconciles the pools with a new snapshot: unchanged endpoints keep their warm
// connections (new pool limits apply in place), removed endpoints drain.
//
// Ownership: one per Worker. Thread-safety: the owning worker thread only; EndpointRegistry is
// the one shared piece and locks only when a pool is created (config time).
#ifndef RWPROXY_SERVER_UPSTREAM_CLUSTER_MANAGER_H_
#define RWPROXY_SERVER_UPSTREAM_CLUSTER_MANAGER_H_

#include <memory>
#include <mutex>
#include <random>
#include <string>

#include "absl/container/flat_hash_map.h"
#include "absl/container/node_hash_map.h"
#include "server/config/snapshot.h"
#include "server/stats/counters.h"
#include "server/upstream/conn_pool.h"

namespace rwproxy {

// Process-wide: one EndpointShared (connection count) per endpoint key, shared by all workers.
// Owned by the Server; any thread.
class EndpointRegistry {
 public:
  std::shared_ptr<EndpointShared> Get(const std::string& key);

 private:
  std::mutex mu_;
  absl::flat_hash_map<std::string, std::shared_ptr<EndpointShared>> map_;
};

class ClusterManager {
 public:
  ClusterManager(Executor executor, Poller* poller, BufferPool* buffers,
                 EndpointRegistry* registry);

  // Reconciles pools with the endpoints of `snapshot`.
  void Apply(const Snapshot& snapshot);

  struct Pick {
    ConnPool* pool = nullptr;
    ClusterCounters* counters = nullptr;
  };
  // Picks an endpoint of `cluster` (from the snapshot the request started with) by its LB policy.
  Pick Choose(const ClusterInfo& cluster);
  ClusterCounters* Counters(const std::string& cluster) { return &clusters_[cluster].counters; }

  // Idle timeouts, freed capacity, and deleting drained pools that have emptied.
  void Sweep(Clock::time_point now);
  // Worker shutdown: every request queued for a connection gives up now.
  void AbortWaiters() {
    for (auto& [key, pool] : pools_) pool->AbortWaiters();
  }
  // Adds this worker's counters and gauges (per cluster of `snapshot`) to *out.
  void Collect(const Snapshot* snapshot, StatsSnapshot* out) const;

 private:
  struct ClusterState {
    ClusterCounters counters;
    uint64_t next = 0;  // round robin position
  };
  ConnPool* PoolFor(const EndpointInfo& endpoint, const PoolSpec& spec);

  Executor executor_;
  Poller* poller_;
  BufferPool* buffers_;
  EndpointRegistry* registry_;
  absl::flat_hash_map<std::string, std::unique_ptr<ConnPool>> pools_;
  absl::node_hash_map<std::string, ClusterState> clusters_;  // stable addresses
  bool applying_ = false;
  std::minstd_rand rng_{std::random_device{}()};
};

}  // namespace rwproxy

#endif  // RWPROXY_SERVER_UPSTREAM_CLUSTER_MANAGER_H_
