// The data plane as a whole: N workers sharing one listening port (SO_REUSEPORT), the
// process-wide endpoint registry, and the publisher that hands a new snapshot to every worker.
//
// Ownership: created by main (the composition root), lives for the process.
// Thread-safety: Publish, CollectStats, Traffic, current and BeginDrain may be called from any
// thread but never from a worker thread (they wait for the workers, each with a deadline: a
// worker that does not answer is reported, never waited for forever).
#ifndef RWPROXY_SERVER_RUNTIME_SERVER_H_
#define RWPROXY_SERVER_RUNTIME_SERVER_H_

#include <atomic>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "server/config/config_target.h"
#include "server/runtime/worker.h"
#include "server/upstream/endpoint_monitor.h"

namespace rwproxy {

class Server : public ConfigTarget {
 public:
  // `seed` (0: random) makes random choices reproducible: worker i uses seed + i.
  explicit Server(int workers, uint64_t seed = 0);
  ~Server() override;

  // Binds every worker to `endpoint` (port 0 picks one port for all).
  absl::Status Listen(const boost::asio::ip::tcp::endpoint& endpoint);
  // Binds every worker's TLS listener to `endpoint`, serving the certificates in `slot` (which
  // the Server keeps, for the cert reloader to update). Before Start().
  absl::Status ListenTls(const boost::asio::ip::tcp::endpoint& endpoint,
                         std::shared_ptr<ServerTlsSlot> slot);
  boost::asio::ip::tcp::endpoint tls_local_endpoint() const;
  // Posts the snapshot to every worker and returns once all of them serve it, or after `timeout`
  // with DEADLINE_EXCEEDED naming the workers that have not (logged as an error; Lagging() lists
  // them until they do). Before Start() it applies it directly, so the first request already has
  // a config.
  absl::Status Publish(std::shared_ptr<const Snapshot> snapshot, absl::Duration timeout) override;
  // Workers that have not yet confirmed the current snapshot after a Publish timed out ("" when
  // all have): "worker 1 (version 7 of 8)". /ready fails while it is not empty.
  std::string Lagging() const;
  // Runs `task` on worker `index`'s thread (diagnostics and tests: a test wedges a worker).
  void RunOnWorker(size_t index, std::function<void()> task);
  // Before Start(): every worker writes its access log lines to `log` (owned by main).
  void SetAccessLog(AccessLog* log);
  void Start();
  // Waits up to 2 s per call for the workers' counters; a worker that does not answer in time is
  // left out and counted in server.workers_unresponsive.
  StatsSnapshot CollectStats() override;
  std::vector<ClusterStatus> Clusters() override;
  VersionTraffic Traffic() override;
  // Before Start(): `source` adds proxy-wide counters to every CollectStats (e.g. the control
  // plane's guard verdicts); it runs on the collecting thread and must not call CollectStats.
  void AddStatsSource(std::function<void(StatsSnapshot*)> source);
  std::shared_ptr<const Snapshot> current() const override;
  void BeginDrain();
  void Stop();

  boost::asio::ip::tcp::endpoint local_endpoint() const;
  bool draining() const { return draining_; }

 private:
  EndpointRegistry registry_;
  // Stopped (Stop) before the workers stop, since it posts to them; destroyed after them, since
  // a worker's shutdown may still report an outlier to it (a post to its stopped io_context).
  std::unique_ptr<EndpointMonitor> monitor_;
  std::vector<std::unique_ptr<Worker>> workers_;
  std::mutex publish_mu_;  // serialises Publish and Start (held while workers are waited for)
  mutable std::mutex mu_;  // guards current_ only (never held while waiting)
  std::shared_ptr<const Snapshot> current_;
  // The snapshot version each worker last confirmed (written on the worker thread when it swaps).
  std::unique_ptr<std::atomic<uint64_t>[]> confirmed_;
  bool started_ = false;
  AccessLog* access_log_ = nullptr;
  std::vector<std::function<void(StatsSnapshot*)>> stats_sources_;  // set before Start()
  std::atomic<bool> draining_{false};
  std::shared_ptr<ServerTlsSlot> tls_slot_;  // null: no TLS listener
};

}  // namespace rwproxy

#endif  // RWPROXY_SERVER_RUNTIME_SERVER_H_
