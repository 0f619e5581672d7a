#include "server/upstream/endpoint_monitor.h"

#include <algorithm>
#include <future>
#include <random>

#include "absl/container/flat_hash_set.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "boost/asio/post.hpp"
#include "server/upstream/resolver.h"

namespace rwproxy {
namespace asio = boost::asio;
using SteadyClock = std::chrono::steady_clock;

namespace {

constexpr std::chrono::milliseconds kTick{100};  // ejection ends and DNS lookups are checked

int64_t NowUnixMs() { return absl::ToUnixMillis(absl::Now()); }

EndpointNames::Now NamesNow() { return {SteadyClock::now(), NowUnixMs()}; }

}  // namespace

EndpointMonitor::EndpointMonitor(EndpointRegistry* registry, Publish publish)
    : registry_(registry), publish_(std::move(publish)) {
  tick_.expires_after(kTick);
  tick_.async_wait([this](const boost::system::error_code& ec) {
    if (!ec) Tick();
  });
  thread_ = std::thread([this] { io_.run(); });
}

EndpointMonitor::~EndpointMonitor() { Stop(); }

void EndpointMonitor::Stop() {
  {
    std::lock_guard<std::mutex> lock(lifecycle_mu_);
    if (stopping_) return;
    stopping_ = true;  // later RunOnMonitor calls return at once
  }
  dns_.join();  // lookups in flight finish; their results are dropped below
  asio::post(io_, [this] {
    stopped_ = true;  // the monitor thread's own view
    tick_.cancel();
    for (auto& [name, cluster] : clusters_) {
      for (auto& endpoint : cluster.endpoints) {
        if (endpoint->checker) endpoint->checker->Stop();
      }
    }
    io_.stop();
  });
  thread_.join();
}

template <typename F>
auto EndpointMonitor::RunOnMonitor(F f) -> decltype(f()) {
  std::promise<decltype(f())> done;
  auto result = done.get_future();
  {
    // Posted before Stop posts its own task, so it runs first (one thread, FIFO).
    std::lock_guard<std::mutex> lock(lifecycle_mu_);
    if (stopping_) return decltype(f()){};
    asio::post(io_, [&] { done.set_value(f()); });
  }
  return result.get();
}

std::shared_ptr<const HostMap> EndpointMonitor::Update(std::shared_ptr<const Snapshot> snapshot) {
  return RunOnMonitor([&] {
    Reconcile(*snapshot);
    changed_ = false;
    return Build();
  });
}

void EndpointMonitor::ReportOutlier(const std::string& cluster, const std::string& key,
                                    OutlierKind kind) {
  asio::post(io_, [this, cluster, key, kind] { OnOutlier(cluster, key, kind); });
}

void EndpointMonitor::Reconcile(const Snapshot& snapshot) {
  absl::flat_hash_set<std::string> names;
  const auto now = SteadyClock::now();
  for (const ClusterInfo& info : snapshot.clusters) {
    names.insert(info.name);
    Cluster& cluster = clusters_[info.name];
    std::shared_ptr<const ClusterInfo> old = cluster.info;
    cluster.info = std::make_shared<ClusterInfo>(info);
    std::vector<EndpointNames::Change> changes;
    cluster.dns_failures += cluster.names.Configure(info, {now, NowUnixMs()}, &changes);
    cluster.dns_generation = ++dns_generation_;  // answers to the old config's lookups: dropped
    cluster.dns_pending = false;
    // A check speaks the cluster's TLS: a change of its settings restarts the checkers too.
    auto tls_identity = [](const ClusterInfo* c) {
      return c != nullptr && c->tls ? c->tls->identity() : std::string();
    };
    const bool checks_changed = !old || old->health_check != info.health_check ||
                                tls_identity(old.get()) != tls_identity(&info);
    if (checks_changed) {
      for (auto& endpoint : cluster.endpoints) {
        if (endpoint->checker) endpoint->checker->Stop();
        endpoint->checker = nullptr;
        if (!info.health_check && endpoint->check_failed) {
          endpoint->check_failed = false;
          endpoint->since_unix_ms = NowUnixMs();
          endpoint->reason.clear();
          Changed();
        }
      }
    }
    if (!info.outlier) {
      for (auto& endpoint : cluster.endpoints) endpoint->ejection = EjectionState{};
    }
    SetEndpoints(info.name, &cluster, cluster.names.Endpoints());
    LogNameChanges(info.name, changes, cluster.endpoints.size());
    for (auto& endpoint : cluster.endpoints) {
      if (!endpoint->checker) StartChecker(info.name, &cluster, endpoint.get());
    }
  }
  for (auto it = clusters_.begin(); it != clusters_.end();) {
    if (names.contains(it->first)) {
      ++it;
      continue;
    }
    for (auto& endpoint : it->second.endpoints) {
      if (endpoint->checker) endpoint->checker->Stop();
    }
    clusters_.erase(it++);
  }
}

void EndpointMonitor::SetEndpoints(const std::string& name, Cluster* cluster,
                                   const std::vector<EndpointInfo>& endpoints) {
  absl::flat_hash_map<std::string, std::unique_ptr<Endpoint>> old;
  for (auto& endpoint : cluster->endpoints) {
    std::string key = endpoint->info.key;
    old.emplace(std::move(key), std::move(endpoint));
  }
  const size_t old_count = cluster->endpoints.size();
  cluster->endpoints.clear();
  bool same = old_count == endpoints.size();
  for (const EndpointInfo& info : endpoints) {
    auto it = old.find(info.key);
    std::unique_ptr<Endpoint> endpoint;
    if (it != old.end()) {
      endpoint = std::move(it->second);
      old.erase(it);
    } else {
      same = false;
      endpoint = std::make_unique<Endpoint>();
      endpoint->since_unix_ms = NowUnixMs();
    }
    endpoint->info = info;
    Endpoint* raw = endpoint.get();
    cluster->endpoints.push_back(std::move(endpoint));
    if (!raw->checker && cluster->info->health_check) StartChecker(name, cluster, raw);
  }
  for (auto& [key, endpoint] : old) {
    if (endpoint->checker) endpoint->checker->Stop();
  }
  if (!same || !old.empty()) Changed();
}

void EndpointMonitor::StartChecker(const std::string& cluster_name, Cluster* cluster,
                                   Endpoint* endpoint) {
  if (!cluster->info->health_check) return;
  const HealthCheckSpec& spec = *cluster->info->health_check;
  auto checker = std::make_shared<HealthChecker>(
      io_, endpoint->info.address, spec.host.empty() ? endpoint->info.source : spec.host, spec,
      [this, cluster_name, key = endpoint->info.key](HealthChecker* checker, bool ok,
                                                     const std::string& detail) {
        OnCheck(cluster_name, key, checker, ok, detail);
      });
  if (const auto& tls = cluster->info->tls) {
    checker->SetTls(tls, tls->ServerName(EndpointHost(endpoint->info.source)));
  }
  endpoint->checker = checker;
  // Spread the first checks over the interval (at most a second), so that a thousand
  // endpoints do not all connect at once.
  static thread_local std::minstd_rand rng{std::random_device{}()};
  const int64_t spread = std::min<int64_t>(1000, absl::ToInt64Milliseconds(spec.interval));
  checker->Start(SteadyClock::now() + std::chrono::milliseconds(spread > 0 ? rng() % spread : 0));
}

void EndpointMonitor::OnCheck(const std::string& cluster_name, const std::string& key,
                              HealthChecker* checker, bool ok, const std::string& detail) {
  auto it = clusters_.find(cluster_name);
  if (it == clusters_.end() || !it->second.info->health_check) return;
  Cluster& cluster = it->second;
  const HealthCheckSpec& spec = *cluster.info->health_check;
  for (auto& endpoint : cluster.endpoints) {
    if (endpoint->info.key != key || endpoint->checker.get() != checker) continue;
    if (ok) {
      ++cluster.health_check_success;
      ++endpoint->checks_ok;
      endpoint->failures = 0;
      ++endpoint->successes;
      if (endpoint->check_failed && endpoint->successes >= spec.healthy_threshold) {
        endpoint->check_failed = false;
        endpoint->since_unix_ms = NowUnixMs();
        endpoint->reason = endpoint->ejection.ejected ? endpoint->reason : "";
        Changed();
      }
    } else {
      ++cluster.health_check_failure;
      ++endpoint->checks_failed;
      endpoint->successes = 0;
      ++endpoint->failures;
      if (!endpoint->check_failed && endpoint->failures >= spec.unhealthy_threshold) {
        endpoint->check_failed = true;
        endpoint->since_unix_ms = NowUnixMs();
        Changed();
      }
      if (endpoint->check_failed) {
        endpoint->reason =
            absl::StrCat(endpoint->failures, " consecutive failed health checks: ", detail);
      }
    }
    break;
  }
  if (changed_) {
    changed_ = false;
    publish_(Build());
  }
}

void EndpointMonitor::OnOutlier(const std::string& cluster_name, const std::string& key,
                                OutlierKind kind) {
  auto it = clusters_.find(cluster_name);
  if (stopped_ || it == clusters_.end() || !it->second.info->outlier) return;
  Cluster& cluster = it->second;
  const OutlierSpec& spec = *cluster.info->outlier;
  std::shared_ptr<EndpointShared> shared = registry_->Get(key);
  auto& count =
      kind == OutlierKind::k5xx ? shared->consecutive_5xx : shared->consecutive_connect_failures;
  const uint32_t threshold =
      kind == OutlierKind::k5xx ? spec.consecutive_5xx : spec.consecutive_connect_failures;
  Endpoint* target = nullptr;
  size_t ejected = 0;
  for (auto& endpoint : cluster.endpoints) {
    if (endpoint->ejection.ejected) ++ejected;
    if (endpoint->info.key == key) target = endpoint.get();
  }
  // A success may have reset the count since the report was sent.
  if (!target || threshold == 0 || count.load(std::memory_order_relaxed) < threshold) return;
  count.store(0, std::memory_order_relaxed);  // the next ejection needs a new run of errors
  if (target->ejection.ejected ||
      !MayEject(ejected, cluster.endpoints.size(), spec.max_ejection_percent)) {
    return;
  }
  const auto now = SteadyClock::now();
  absl::Duration duration = Eject(spec, &target->ejection, now);
  ++cluster.ejections_total;
  target->since_unix_ms = NowUnixMs();
  target->reason = absl::StrCat(
      threshold, kind == OutlierKind::k5xx ? " consecutive 5xx" : " consecutive connect failures",
      "; ejected for ", absl::FormatDuration(duration));
  publish_(Build());
}

void EndpointMonitor::Tick() {
  if (stopped_) return;
  const auto now = SteadyClock::now();
  for (auto& [name, cluster] : clusters_) {
    for (auto& endpoint : cluster.endpoints) {
      if (endpoint->checker) endpoint->checker->Tick(now);
      if (MaybeReturn(&endpoint->ejection, now)) {
        endpoint->since_unix_ms = NowUnixMs();
        if (!endpoint->check_failed) endpoint->reason.clear();
        Changed();
      }
    }
    if (!cluster.dns_pending) {
      bool full = false;
      std::vector<EndpointSpec> due = cluster.names.Due(now, &full);
      if (!due.empty()) StartDns(name, &cluster, std::move(due), full);
    }
  }
  if (changed_) {
    changed_ = false;
    publish_(Build());
  }
  tick_.expires_after(kTick);
  tick_.async_wait([this](const boost::system::error_code& ec) {
    if (!ec) Tick();
  });
}

void EndpointMonitor::StartDns(const std::string& name, Cluster* cluster,
                               std::vector<EndpointSpec> names, bool full) {
  cluster->dns_pending = true;
  const uint64_t generation = cluster->dns_generation;
  auto lookup = [this, name, names = std::move(names), full, generation] {
    std::vector<Resolution> answers;
    for (const EndpointSpec& spec : names) answers.push_back(Resolve(spec.host, spec.port));
    asio::post(io_, [this, name, names, full, generation, answers = std::move(answers)] {
      OnDnsAnswers(name, generation, names, answers, full);
    });
  };
  asio::post(dns_, std::move(lookup));
}

void EndpointMonitor::OnDnsAnswers(const std::string& name, uint64_t generation,
                                   const std::vector<EndpointSpec>& names,
                                   const std::vector<Resolution>& answers, bool full) {
  auto it = clusters_.find(name);
  if (stopped_ || it == clusters_.end() || it->second.dns_generation != generation) return;
  Cluster& cluster = it->second;
  cluster.dns_pending = false;
  std::vector<EndpointNames::Change> changes;
  cluster.dns_failures += cluster.names.OnAnswers(names, answers, full, NamesNow(), &changes);
  SetEndpoints(name, &cluster, cluster.names.Endpoints());
  if (!changes.empty()) Changed();  // the unresolved list changed, if nothing else
  LogNameChanges(name, changes, cluster.endpoints.size());
  if (changed_) {
    changed_ = false;
    publish_(Build());
  }
}

std::shared_ptr<const HostMap> EndpointMonitor::Build() {
  auto map = std::make_shared<HostMap>();
  map->generation = ++generation_;
  for (const auto& [name, cluster] : clusters_) {
    auto set = std::make_shared<HostSet>();
    set->unresolved = cluster.names.UnresolvedNames();
    for (const auto& endpoint : cluster.endpoints) {
      if (endpoint->available()) set->available.push_back(set->endpoints.size());
      set->endpoints.push_back(endpoint->info);
    }
    map->clusters.emplace(name, std::move(set));
  }
  return map;
}

std::vector<ClusterStatus> EndpointMonitor::Status() {
  return RunOnMonitor([this] {
    std::vector<ClusterStatus> out;
    for (const auto& [name, cluster] : clusters_) {
      ClusterStatus& status = out.emplace_back();
      status.name = name;
      size_t available = 0;
      for (const auto& endpoint : cluster.endpoints) {
        EndpointStatus& e = status.endpoints.emplace_back();
        e.address = endpoint->info.key;
        e.source = endpoint->info.source;
        e.health = endpoint->check_failed       ? "unhealthy"
                   : endpoint->ejection.ejected ? "ejected"
                                                : "healthy";
        if (endpoint->available()) ++available;
        e.since_unix_ms = endpoint->since_unix_ms;
        e.reason = endpoint->reason;
        e.ejections = endpoint->ejection.level;
        if (cluster.info->health_check) {
          e.counters["health_check_success"] = endpoint->checks_ok;
          e.counters["health_check_failure"] = endpoint->checks_failed;
        }
      }
      status.panic = available == 0 && !cluster.endpoints.empty();
      for (const std::string& source : cluster.names.UnresolvedNames()) {
        const EndpointNames::Unresolved& name = *cluster.names.FindUnresolved(source);
        EndpointStatus& e = status.unresolved.emplace_back();
        e.source = source;
        e.health = "unresolved";
        e.since_unix_ms = name.since_unix_ms;
        e.reason = name.error;
        e.retry_unix_ms = cluster.names.NextLookupUnixMs(name);
        e.counters["dns_resolution_failure"] = name.failures;
      }
    }
    std::sort(out.begin(), out.end(),
              [](const ClusterStatus& a, const ClusterStatus& b) { return a.name < b.name; });
    return out;
  });
}

void EndpointMonitor::Collect(StatsSnapshot* out) {
  StatsSnapshot mine = RunOnMonitor([this] {
    StatsSnapshot stats;
    for (const auto& [name, cluster] : clusters_) {
      CounterMap& map = stats.clusters[name];
      map["health_check_success"] = cluster.health_check_success;
      map["health_check_failure"] = cluster.health_check_failure;
      map["outlier_ejections_total"] = cluster.ejections_total;
      map["dns_resolution_failure"] = cluster.dns_failures;
      map["dns_unresolved"] = cluster.names.unresolved_count();
      uint64_t ejected = 0;
      uint64_t available = 0;
      for (const auto& endpoint : cluster.endpoints) {
        ejected += endpoint->ejection.ejected;
        available += endpoint->available();
      }
      map["outlier_ejections_active"] = ejected;
      map["endpoints_healthy"] = available;
    }
    return stats;
  });
  out->Merge(mine);
}

}  // namespace rwproxy
