// What a session needs from the worker it runs on: the current snapshot, the worker's
// ClusterManager, buffer pool and counters, and whether the server is draining.
//
// Ownership: owned by the Worker; sessions hold a reference. The Worker destroys every session
// (by shutting its io_context down) before it destroys the context. Thread-safety: the owning
// worker thread only (the worker swaps `snapshot` on its own thread when a config is published).
#ifndef RWPROXY_SERVER_HTTP_WORKER_CONTEXT_H_
#define RWPROXY_SERVER_HTTP_WORKER_CONTEXT_H_

#include <memory>

#include "absl/container/flat_hash_set.h"
#include "server/config/snapshot.h"
#include "server/http/access_record.h"
#include "server/http/buffer.h"
#include "server/http/event_socket.h"
#include "server/http/request_state.h"
#include "server/stats/counters.h"
#include "server/stats/traffic.h"
#include "server/upstream/cluster_manager.h"

namespace rwproxy {

class DownstreamSession;

// Requests per route, counted by CompiledRoute::index for the snapshot the worker last saw (a
// pointer compare and an increment per request); other snapshots' counts are folded by name.
class RouteCounts {
 public:
  void Count(const std::shared_ptr<const Snapshot>& snapshot, const CompiledRoute& route) {
    if (snapshot.get() != snapshot_.get()) Switch(snapshot);
    ++counts_[route.index];
  }
  void Collect(StatsSnapshot* out) const {
    for (const auto& [name, value] : folded_) out->routes[name]["rq_total"] += value;
    for (size_t i = 0; i < counts_.size(); ++i) {
      if (counts_[i] != 0) out->routes[snapshot_->routes.at(i).name]["rq_total"] += counts_[i];
    }
  }

 private:
  void Switch(const std::shared_ptr<const Snapshot>& snapshot) {
    for (size_t i = 0; i < counts_.size(); ++i) {
      if (counts_[i] != 0) folded_[snapshot_->routes.at(i).name] += counts_[i];
    }
    snapshot_ = snapshot;
    counts_.assign(snapshot->routes.size(), 0);
  }
  std::shared_ptr<const Snapshot> snapshot_;
  std::vector<uint64_t> counts_;
  absl::flat_hash_map<std::string, uint64_t> folded_;
};

struct WorkerContext {
  ClusterManager* clusters = nullptr;
  BufferPool* buffers = nullptr;
  Poller* poller = nullptr;
  RequestStatePool* states = nullptr;
  ListenerCounters listener;      // the plain listener ("proxy")
  ListenerCounters tls_listener;  // the TLS listener ("tls")
  ServerCounters server;
  std::shared_ptr<const Snapshot> snapshot;
  bool draining = false;  // answer with Connection: close and end keep-alive loops
  bool stopping = false;  // worker shutdown: aborted requests are not retried or counted
  AccessLogBuffer* access_log = nullptr;  // null: access log off
  RequestIdGenerator* request_ids = nullptr;
  RouteCounts routes;
  TrafficCounter traffic;  // per config version, for guarded applies
  absl::flat_hash_set<DownstreamSession*> sessions;  // open client connections
};

}  // namespace rwproxy

#endif  // RWPROXY_SERVER_HTTP_WORKER_CONTEXT_H_
