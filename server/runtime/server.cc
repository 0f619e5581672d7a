#include "server/runtime/server.h"

#include <chrono>
#include <condition_variable>

#include "absl/strings/str_cat.h"
#include "server/log/log.h"

namespace rwproxy {

Server::Server(int workers, uint64_t seed) {
  // The monitor is created first (workers report outliers to it) but publishes to the workers
  // only once they exist: its first HostMap comes with the first Publish.
  monitor_ = std::make_unique<EndpointMonitor>(
      &registry_, [this](std::shared_ptr<const HostMap> hosts) {
        for (auto& worker : workers_) worker->SetHosts(hosts);
      });
  confirmed_ = std::make_unique<std::atomic<uint64_t>[]>(workers);
  for (int i = 0; i < workers; ++i) {
    workers_.push_back(std::make_unique<Worker>(&registry_, monitor_.get(), i, workers,
                                                seed == 0 ? 0 : seed + i));
  }
}

Server::~Server() { Stop(); }

absl::Status Server::Listen(const boost::asio::ip::tcp::endpoint& endpoint) {
  auto bind_to = endpoint;
  std::string error;
  for (auto& worker : workers_) {
    if (!worker->Listen(bind_to, &error)) return absl::UnavailableError(error);
    bind_to = worker->local_endpoint();  // port 0: the others join the port the first got
  }
  return absl::OkStatus();
}

absl::Status Server::ListenTls(const boost::asio::ip::tcp::endpoint& endpoint,
                              std::shared_ptr<ServerTlsSlot> slot) {
  tls_slot_ = std::move(slot);
  auto bind_to = endpoint;
  std::string error;
  for (auto& worker : workers_) {
    if (!worker->ListenTls(bind_to, tls_slot_.get(), &error)) return absl::UnavailableError(error);
    bind_to = worker->tls_local_endpoint();
  }
  return absl::OkStatus();
}

boost::asio::ip::tcp::endpoint Server::tls_local_endpoint() const {
  return workers_.empty() ? boost::asio::ip::tcp::endpoint() : workers_[0]->tls_local_endpoint();
}

boost::asio::ip::tcp::endpoint Server::local_endpoint() const {
  return workers_.empty() ? boost::asio::ip::tcp::endpoint() : workers_[0]->local_endpoint();
}

void Server::SetAccessLog(AccessLog* log) {
  access_log_ = log;
  for (auto& worker : workers_) worker->SetAccessLog(log);
}

void Server::Start() {
  std::lock_guard<std::mutex> lock(publish_mu_);
  for (auto& worker : workers_) worker->Start();
  started_ = true;
}

namespace {

// What a Publish or CollectStats waits on; shared with the workers' callbacks, so that a worker
// that answers after the caller gave up writes into live memory.
struct Rendezvous {
  std::mutex mu;
  std::condition_variable cv;
  size_t done = 0;
};

// Calls post(worker, done) for every worker, where done(T) runs on the worker's thread, and
// merges what the workers hand back within two seconds; *missing gets how many did not answer.
// The shared state outlives the call, so a worker that answers late writes into live memory.
template <typename T, typename Post>
T GatherFromWorkers(const std::vector<std::unique_ptr<Worker>>& workers, Post post, size_t* missing) {
  struct Wait : Rendezvous {
    T total;
  };
  auto wait = std::make_shared<Wait>();
  for (const auto& worker : workers) {
    post(*worker, [wait](T part) {
      std::lock_guard<std::mutex> lock(wait->mu);
      wait->total.Merge(part);
      ++wait->done;
      wait->cv.notify_one();
    });
  }
  std::unique_lock<std::mutex> lock(wait->mu);
  wait->cv.wait_for(lock, std::chrono::seconds(2), [&] { return wait->done == workers.size(); });
  *missing = workers.size() - wait->done;
  return wait->total;
}

}  // namespace

absl::Status Server::Publish(std::shared_ptr<const Snapshot> snapshot, absl::Duration timeout) {
  // publish_mu_, not mu_, is held while the workers are waited for: current(), Lagging() and the
  // counters stay answerable while a worker is late.
  std::lock_guard<std::mutex> publish_lock(publish_mu_);
  std::shared_ptr<const HostMap> hosts = monitor_->Update(snapshot);
  const uint64_t version = snapshot->version;
  if (!started_) {  // the worker threads do not run yet: apply here
    for (size_t i = 0; i < workers_.size(); ++i) {
      workers_[i]->ApplyNow(snapshot, hosts);
      confirmed_[i].store(version, std::memory_order_release);
    }
    std::lock_guard<std::mutex> current_lock(mu_);
    current_ = std::move(snapshot);
    return absl::OkStatus();
  }
  auto wait = std::make_shared<Rendezvous>();
  for (size_t i = 0; i < workers_.size(); ++i) {
    workers_[i]->Apply(snapshot, hosts, [this, wait, i, version] {
      confirmed_[i].store(version, std::memory_order_release);
      std::lock_guard<std::mutex> lock(wait->mu);
      ++wait->done;
      wait->cv.notify_one();
    });
  }
  {
    std::lock_guard<std::mutex> current_lock(mu_);
    current_ = std::move(snapshot);
  }
  std::unique_lock<std::mutex> lock(wait->mu);
  const bool all = wait->cv.wait_for(lock, absl::ToChronoMilliseconds(timeout),
                                     [&] { return wait->done == workers_.size(); });
  lock.unlock();
  if (all) return absl::OkStatus();
  std::string lagging;
  for (size_t i = 0; i < workers_.size(); ++i) {
    if (confirmed_[i].load(std::memory_order_acquire) == version) continue;
    absl::StrAppend(&lagging, lagging.empty() ? "" : ", ", i);
  }
  const std::string message = absl::StrCat(
      "worker(s) ", lagging, " did not confirm config version ", version, " within ",
      absl::FormatDuration(timeout), "; the others serve it, /ready fails until they all do");
  log::Error("server", message);
  return absl::DeadlineExceededError(message);
}

std::string Server::Lagging() const {
  std::shared_ptr<const Snapshot> live = current();
  if (live == nullptr) return "";
  std::string out;
  for (size_t i = 0; i < workers_.size(); ++i) {
    const uint64_t confirmed = confirmed_[i].load(std::memory_order_acquire);
    if (confirmed == live->version) continue;
    absl::StrAppend(&out, out.empty() ? "" : ", ", "worker ", i, " (version ", confirmed, " of ",
                    live->version, ")");
  }
  return out;
}

void Server::RunOnWorker(size_t index, std::function<void()> task) {
  if (index < workers_.size()) workers_[index]->Post(std::move(task));
}

std::shared_ptr<const Snapshot> Server::current() const {
  std::lock_guard<std::mutex> lock(mu_);
  return current_;
}

StatsSnapshot Server::CollectStats() {
  size_t missing = 0;
  StatsSnapshot total = GatherFromWorkers<StatsSnapshot>(
      workers_, [](Worker& worker, auto done) { worker.Collect(std::move(done)); }, &missing);
  total.server["workers_unresponsive"] = missing;
  monitor_->Collect(&total);
  if (access_log_) total.server["access_log_dropped"] = access_log_->dropped();
  if (tls_slot_) {
    total.server["tls_cert_reloads"] = tls_slot_->reloads.load();
    total.server["tls_cert_reload_fail"] = tls_slot_->reload_failures.load();
  }
  for (const auto& source : stats_sources_) source(&total);
  // Gauges that are proxy-wide, not per worker.
  if (auto snapshot = current()) {
    for (const ClusterInfo& cluster : snapshot->clusters) {
      auto shared = registry_.GetCluster(cluster.name);
      total.clusters[cluster.name]["circuit_breaker_open"] =
          shared->requests.load(std::memory_order_relaxed) >= cluster.breakers.max_requests;
    }
  }
  return total;
}

void Server::AddStatsSource(std::function<void(StatsSnapshot*)> source) {
  stats_sources_.push_back(std::move(source));
}

VersionTraffic Server::Traffic() {
  size_t missing = 0;
  VersionTraffic total = GatherFromWorkers<VersionTraffic>(
      workers_, [](Worker& worker, auto done) { worker.CollectTraffic(std::move(done)); },
      &missing);
  total.workers_unresponsive = missing;
  return total;
}

std::vector<ClusterStatus> Server::Clusters() {
  std::vector<ClusterStatus> clusters = monitor_->Status();
  const StatsSnapshot stats = CollectStats();
  for (ClusterStatus& cluster : clusters) {
    for (EndpointStatus& endpoint : cluster.endpoints) {
      auto it = stats.endpoints.find(endpoint.address);
      if (it == stats.endpoints.end()) continue;
      for (const auto& [name, value] : it->second) {
        if (name == "cx_active") {
          endpoint.cx_active = value;
        } else if (name == "cx_idle") {
          endpoint.cx_idle = value;
        } else if (name == "rq_pending") {
          endpoint.rq_pending = value;
        } else {
          endpoint.counters[name] = value;
        }
      }
    }
  }
  return clusters;
}

void Server::BeginDrain() {
  draining_ = true;
  for (auto& worker : workers_) worker->BeginDrain();
}

void Server::Stop() {
  monitor_->Stop();
  for (auto& worker : workers_) worker->Stop();
}

}  // namespace rwproxy
