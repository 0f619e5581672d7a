#include "server/upstream/cluster_manager.h"

#include "absl/container/flat_hash_set.h"

namespace rwproxy {

std::shared_ptr<EndpointShared> EndpointRegistry::Get(const std::string& key) {
  std::lock_guard<std::mutex> lock(mu_);
  auto& slot = map_[key];
  if (!slot) slot = std::make_shared<EndpointShared>();
  return slot;
}

ClusterManager::ClusterManager(Executor executor, Poller* poller, BufferPool* buffers,
                               EndpointRegistry* registry)
    : executor_(std::move(executor)), poller_(poller), buffers_(buffers), registry_(registry) {}

ConnPool* ClusterManager::PoolFor(const EndpointInfo& endpoint, const PoolSpec& spec) {
  auto& pool = pools_[endpoint.key];
  if (!pool) {
    pool = std::make_unique<ConnPool>(executor_, poller_, buffers_, endpoint, registry_->Get(endpoint.key), spec);
    // Apply() creates every live endpoint's pool first, so one created later is for an endpoint
    // an older snapshot named: it serves that request and drains.
    if (!applying_) pool->Drain();
  }
  return pool.get();
}

void ClusterManager::Apply(const Snapshot& snapshot) {
  absl::flat_hash_set<std::string> live;
  applying_ = true;
  for (const ClusterInfo& cluster : snapshot.clusters) {
    clusters_[cluster.name];  // counters exist from the first config that names the cluster
    for (const EndpointInfo& endpoint : cluster.endpoints) {
      if (!live.insert(endpoint.key).second) continue;  // first cluster's pool limits win
      ConnPool* pool = PoolFor(endpoint, cluster.pool);
      pool->SetSpec(cluster.pool);
      pool->Undrain();
    }
  }
  applying_ = false;
  for (auto& [key, pool] : pools_) {
    if (!live.contains(key) && !pool->draining()) pool->Drain();
  }
}

ClusterManager::Pick ClusterManager::Choose(const ClusterInfo& cluster) {
  ClusterState& state = clusters_[cluster.name];
  const auto& endpoints = cluster.endpoints;
  if (endpoints.empty()) return {nullptr, &state.counters};
  size_t index = 0;
  switch (cluster.lb_policy) {
    case LbPolicy::kRoundRobin:
      index = state.next++ % endpoints.size();
      break;
    case LbPolicy::kRandom:
      index = rng_() % endpoints.size();
      break;
    case LbPolicy::kLeastRequest: {
      // Fewest requests in flight on this worker; ties broken round robin.
      size_t start = state.next++ % endpoints.size();
      size_t best = SIZE_MAX;
      for (size_t i = 0; i < endpoints.size(); ++i) {
        size_t candidate = (start + i) % endpoints.size();
        size_t busy = PoolFor(endpoints[candidate], cluster.pool)->busy();
        if (busy < best) {
          best = busy;
          index = candidate;
        }
      }
      break;
    }
  }
  ConnPool* pool = PoolFor(endpoints[index], cluster.pool);
  return {pool, &state.counters};
}

void ClusterManager::Sweep(Clock::time_point now) {
  for (auto it = pools_.begin(); it != pools_.end();) {
    it->second->Sweep(now);
    if (it->second->draining() && it->second->empty()) {
      pools_.erase(it++);
    } else {
      ++it;
    }
  }
}

void ClusterManager::Collect(const Snapshot* snapshot, StatsSnapshot* out) const {
  for (const auto& [name, state] : clusters_) out->Add(name, state.counters);
  if (!snapshot) return;
  for (const ClusterInfo& cluster : snapshot->clusters) {
    CounterMap& map = out->clusters[cluster.name];
    uint64_t& active = map["upstream_cx_active"];
    uint64_t& idle = map["upstream_cx_idle"];
    for (const EndpointInfo& endpoint : cluster.endpoints) {
      auto it = pools_.find(endpoint.key);
      if (it == pools_.end()) continue;
      active += it->second->busy() + it->second->idle();
      idle += it->second->idle();
    }
  }
}

}  // namespace rwproxy
