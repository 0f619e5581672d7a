#include "server/upstream/cluster_manager.h"

#include <algorithm>

#include "absl/container/flat_hash_set.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"

namespace rwproxy {

std::shared_ptr<EndpointShared> EndpointRegistry::Get(const std::string& key) {
  std::lock_guard<std::mutex> lock(mu_);
  auto& slot = map_[key];
  if (!slot) slot = std::make_shared<EndpointShared>();
  return slot;
}

std::shared_ptr<ClusterShared> EndpointRegistry::GetCluster(const std::string& name) {
  std::lock_guard<std::mutex> lock(mu_);
  auto& slot = clusters_[name];
  if (!slot) slot = std::make_shared<ClusterShared>();
  return slot;
}

ClusterManager::ClusterManager(Executor executor, Poller* poller, BufferPool* buffers,
                               EndpointRegistry* registry)
    : executor_(std::move(executor)), poller_(poller), buffers_(buffers), registry_(registry) {}

void ClusterManager::SetWorkerShare(int workers, uint64_t seed) {
  budget_share_ = 1.0 / std::max(1, workers);
  if (seed != 0) rng_.seed(seed);
}

ConnPool* ClusterManager::PoolFor(const ClusterInfo& cluster, const EndpointInfo& endpoint) {
  std::string_view key = endpoint.key;
  std::string_view server_name;
  if (cluster.tls) {
    server_name = cluster.tls->spec().sni.empty() ? EndpointHost(endpoint.source)
                                                  : std::string_view(cluster.tls->spec().sni);
    key_scratch_.assign(endpoint.key);  // as PoolKey() spells it
    key_scratch_.append(" ").append(cluster.tls->identity()).append(" ").append(server_name);
    key = key_scratch_;
  }
  auto found = pools_.find(absl::string_view(key.data(), key.size()));
  if (found != pools_.end()) return found->second.get();
  auto& pool = pools_.emplace(std::string(key), nullptr).first->second;
  pool = std::make_unique<ConnPool>(executor_, poller_, buffers_, endpoint,
                                    registry_->Get(endpoint.key), cluster.pool);
  if (cluster.tls) pool->SetTls(cluster.tls, std::string(server_name));
  // Reconcile() creates every live endpoint's pool first, so one created later is for an
  // endpoint an older snapshot named: it serves that request and drains.
  if (!applying_) pool->Drain();
  return pool.get();
}

void ClusterManager::Apply(std::shared_ptr<const Snapshot> snapshot,
                           std::shared_ptr<const HostMap> hosts) {
  snapshot_ = std::move(snapshot);
  if (hosts && (!hosts_ || hosts->generation > hosts_->generation)) hosts_ = std::move(hosts);
  Reconcile();
}

void ClusterManager::SetHosts(std::shared_ptr<const HostMap> hosts) {
  if (!hosts || (hosts_ && hosts->generation <= hosts_->generation)) return;
  hosts_ = std::move(hosts);
  if (snapshot_) Reconcile();
}

void ClusterManager::Reconcile() {
  absl::flat_hash_set<std::string> live;
  absl::flat_hash_set<std::string> available;
  applying_ = true;
  for (const ClusterInfo& cluster : snapshot_->clusters) {
    ClusterState& state = clusters_[cluster.name];  // counters from the first config naming it
    if (!state.shared) state.shared = registry_->GetCluster(cluster.name);
    state.hosts = nullptr;
    if (hosts_) {
      auto it = hosts_->clusters.find(cluster.name);
      if (it != hosts_->clusters.end()) state.hosts = it->second;
    }
    const HostSet* hosts = state.hosts.get();
    const auto& endpoints = hosts ? hosts->endpoints : cluster.endpoints;
    std::vector<bool> up(endpoints.size(), hosts == nullptr || hosts->panic());
    if (hosts) {
      for (uint32_t i : hosts->available) up[i] = true;
    }
    for (size_t i = 0; i < endpoints.size(); ++i) {
      const EndpointInfo& endpoint = endpoints[i];
      ConnPool* pool = PoolFor(cluster, endpoint);
      std::string key = PoolKey(cluster, endpoint);
      if (live.insert(key).second) {  // first cluster's pool limits win
        pool->SetSpec(cluster.pool);
        pool->Undrain();
        // New connections use this snapshot's TLS context (same settings, files read again).
        if (cluster.tls) pool->SetTls(cluster.tls, pool->server_name());
      }
      if (up[i]) available.insert(std::move(key));
    }
  }
  applying_ = false;
  for (auto& [key, pool] : pools_) pool->SetAvailable(available.contains(key));
  for (auto& [key, pool] : pools_) {
    if (!live.contains(key) && !pool->draining()) pool->Drain();
  }
}

ClusterManager::ClusterState& ClusterManager::State(const ClusterInfo& cluster) {
  ClusterState& state = clusters_[cluster.name];
  if (!state.shared) state.shared = registry_->GetCluster(cluster.name);
  return state;
}

ClusterManager::Pick ClusterManager::Choose(const ClusterInfo& cluster, ClusterState& state,
                                            std::span<ConnPool* const> tried) {
  const std::vector<EndpointInfo>* endpoints = &cluster.endpoints;
  const std::vector<uint32_t>* available = nullptr;
  if (const HostSet* hosts = state.hosts.get(); hosts && !hosts->endpoints.empty()) {
    endpoints = &hosts->endpoints;
    if (hosts->panic()) {
      ++state.counters.panic_mode;
    } else {
      available = &hosts->available;
    }
  }
  const size_t n = available ? available->size() : endpoints->size();
  if (n == 0) return {nullptr, &state.counters};
  auto at = [&](size_t i) -> const EndpointInfo& {
    return (*endpoints)[available ? (*available)[i] : i];
  };
  size_t index = 0;
  switch (cluster.lb_policy) {
    case LbPolicy::kRoundRobin:
      // A retry does not advance the rotation: the next request starts where it would have.
      index = tried.empty() ? state.next++ % n : state.next % n;
      break;
    case LbPolicy::kRandom:
      index = rng_() % n;
      break;
    case LbPolicy::kLeastRequest: {
      // Fewest requests in flight on this worker; ties broken round robin.
      size_t start = state.next++ % n;
      size_t best = SIZE_MAX;
      for (size_t i = 0; i < n; ++i) {
        size_t candidate = (start + i) % n;
        size_t busy = PoolFor(cluster, at(candidate))->busy();
        if (busy < best) {
          best = busy;
          index = candidate;
        }
      }
      break;
    }
  }
  ConnPool* pool = PoolFor(cluster, at(index));
  // A retry goes to an endpoint not tried yet, when there is one.
  for (size_t step = 1; step < n && std::find(tried.begin(), tried.end(), pool) != tried.end();
       ++step) {
    pool = PoolFor(cluster, at((index + step) % n));
  }
  return {pool, &state.counters};
}

std::string ClusterManager::NoEndpointsReason(const ClusterInfo& cluster,
                                              const ClusterState& state) const {
  std::vector<std::string> names;
  if (state.hosts) {
    names = state.hosts->unresolved;
  } else {
    for (const UnresolvedEndpoint& name : cluster.unresolved) names.push_back(name.source);
  }
  if (names.empty()) return absl::StrCat("cluster ", cluster.name, " has no endpoints");
  return absl::StrCat("no resolved endpoint in cluster ", cluster.name, " (",
                      absl::StrJoin(names, ", "), names.size() == 1 ? " does" : " do",
                      " not resolve yet)");
}

BreakerSlot ClusterManager::AdmitRequest(const ClusterInfo& cluster, ClusterState& state) {
  state.budget.OnRequest(cluster.retry_budget.ratio);
  auto& requests = state.shared->requests;
  if (requests.fetch_add(1, std::memory_order_relaxed) >= cluster.breakers.max_requests) {
    requests.fetch_sub(1, std::memory_order_relaxed);
    ++state.counters.upstream_rq_overflow;
    return BreakerSlot();
  }
  return BreakerSlot(&requests);
}

BreakerSlot ClusterManager::AdmitRetry(const ClusterInfo& cluster, ClusterState& state) {
  auto& retries = state.shared->retries;
  if (retries.fetch_add(1, std::memory_order_relaxed) >= cluster.breakers.max_retries) {
    retries.fetch_sub(1, std::memory_order_relaxed);
    ++state.counters.upstream_rq_retry_overflow;
    return BreakerSlot();
  }
  BreakerSlot slot(&retries);
  if (!state.budget.TryTake(Clock::now(),
                            cluster.retry_budget.min_per_second * budget_share_)) {
    ++state.counters.upstream_rq_retry_overflow;
    return BreakerSlot();
  }
  ++state.counters.upstream_rq_retry;
  return slot;
}

namespace {
// At the threshold, and again every `threshold` errors after it if the count was not reset (the
// monitor resets it when it acts; a report it could not act on is repeated, but rarely).
bool Reached(uint32_t n, uint32_t threshold) {
  return threshold != 0 && n >= threshold && (n - threshold) % threshold == 0;
}
}  // namespace

void ClusterManager::Observe(const ClusterInfo& cluster, ConnPool* pool, TryResult result,
                             int status) {
  EndpointShared& shared = pool->shared();
  ++pool->counters.rq_total;
  const OutlierSpec* outlier = cluster.outlier ? &*cluster.outlier : nullptr;
  if (result == TryResult::kConnectFailure) {
    ++pool->counters.rq_5xx;
    uint32_t n = shared.consecutive_connect_failures.fetch_add(1, std::memory_order_relaxed) + 1;
    if (outlier && sink_ && Reached(n, outlier->consecutive_connect_failures)) {
      sink_->ReportOutlier(cluster.name, pool->endpoint().key, OutlierKind::kConnectFailure);
    }
    return;
  }
  if (shared.consecutive_connect_failures.load(std::memory_order_relaxed) != 0) {
    shared.consecutive_connect_failures.store(0, std::memory_order_relaxed);
  }
  if (result != TryResult::kResponse || status >= 500) {
    ++pool->counters.rq_5xx;
    uint32_t n = shared.consecutive_5xx.fetch_add(1, std::memory_order_relaxed) + 1;
    if (outlier && sink_ && Reached(n, outlier->consecutive_5xx)) {
      sink_->ReportOutlier(cluster.name, pool->endpoint().key, OutlierKind::k5xx);
    }
  } else if (shared.consecutive_5xx.load(std::memory_order_relaxed) != 0) {
    shared.consecutive_5xx.store(0, std::memory_order_relaxed);
  }
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

void ClusterManager::Collect(StatsSnapshot* out) const {
  for (const auto& [name, state] : clusters_) out->Add(name, state.counters);
  for (const auto& [route, map] : route_backends_) {
    CounterMap& counts = out->route_backends[route];
    for (const auto& [cluster, value] : map) counts[cluster] += value;
  }
  for (const auto& [key, pool] : pools_) {
    CounterMap& map = out->endpoints[pool->endpoint().key];  // TLS and plain pools together
    map["cx_active"] += pool->busy() + pool->idle();
    map["cx_idle"] += pool->idle();
    map["rq_pending"] += pool->waiting();
    map["rq_total"] += pool->counters.rq_total;
    map["rq_5xx"] += pool->counters.rq_5xx;
    map["cx_connect_fail"] += pool->counters.cx_connect_fail;
  }
  if (!snapshot_) return;
  for (const ClusterInfo& cluster : snapshot_->clusters) {
    CounterMap& map = out->clusters[cluster.name];
    uint64_t& active = map["upstream_cx_active"];
    uint64_t& idle = map["upstream_cx_idle"];
    auto state = clusters_.find(cluster.name);
    const HostSet* hosts = state != clusters_.end() ? state->second.hosts.get() : nullptr;
    for (const EndpointInfo& endpoint : hosts ? hosts->endpoints : cluster.endpoints) {
      auto it = pools_.find(PoolKey(cluster, endpoint));
      if (it == pools_.end()) continue;
      active += it->second->busy() + it->second->idle();
      idle += it->second->idle();
    }
  }
}

}  // namespace rwproxy
