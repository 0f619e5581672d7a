#include "server/runtime/server.h"

#include <condition_variable>

namespace rwproxy {

Server::Server(int workers, uint64_t seed) {
  // The monitor is created first (workers report outliers to it) but publishes to the workers
  // only once they exist: its first HostMap comes with the first Publish.
  monitor_ = std::make_unique<EndpointMonitor>(
      &registry_, [this](std::shared_ptr<const HostMap> hosts) {
        for (auto& worker : workers_) worker->SetHosts(hosts);
      });
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

boost::asio::ip::tcp::endpoint Server::local_endpoint() const {
  return workers_.empty() ? boost::asio::ip::tcp::endpoint() : workers_[0]->local_endpoint();
}

void Server::SetAccessLog(AccessLog* log) {
  access_log_ = log;
  for (auto& worker : workers_) worker->SetAccessLog(log);
}

void Server::Start() {
  std::lock_guard<std::mutex> lock(mu_);
  for (auto& worker : workers_) worker->Start();
  started_ = true;
}

void Server::Publish(std::shared_ptr<const Snapshot> snapshot) {
  std::lock_guard<std::mutex> publish_lock(mu_);
  std::shared_ptr<const HostMap> hosts = monitor_->Update(snapshot);
  if (!started_) {  // the worker threads do not run yet: apply here
    for (auto& worker : workers_) worker->ApplyNow(snapshot, hosts);
    current_ = std::move(snapshot);
    return;
  }
  std::mutex done_mu;
  std::condition_variable done_cv;
  size_t done = 0;
  for (auto& worker : workers_) {
    worker->Apply(snapshot, hosts, [&] {
      std::lock_guard<std::mutex> lock(done_mu);
      ++done;
      done_cv.notify_one();
    });
  }
  std::unique_lock<std::mutex> lock(done_mu);
  done_cv.wait(lock, [&] { return done == workers_.size(); });
  current_ = std::move(snapshot);
}

std::shared_ptr<const Snapshot> Server::current() const {
  std::lock_guard<std::mutex> lock(mu_);
  return current_;
}

StatsSnapshot Server::CollectStats() {
  std::mutex mu;
  std::condition_variable cv;
  size_t done = 0;
  StatsSnapshot total;
  for (auto& worker : workers_) {
    worker->Collect([&](StatsSnapshot stats) {
      std::lock_guard<std::mutex> lock(mu);
      total.Merge(stats);
      ++done;
      cv.notify_one();
    });
  }
  std::unique_lock<std::mutex> lock(mu);
  cv.wait(lock, [&] { return done == workers_.size(); });
  lock.unlock();
  monitor_->Collect(&total);
  if (access_log_) total.server["access_log_dropped"] = access_log_->dropped();
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
