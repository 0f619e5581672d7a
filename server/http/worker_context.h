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
#include "server/http/buffer.h"
#include "server/http/event_socket.h"
#include "server/http/request_state.h"
#include "server/stats/counters.h"
#include "server/upstream/cluster_manager.h"

namespace rwproxy {

class DownstreamSession;

struct WorkerContext {
  ClusterManager* clusters = nullptr;
  BufferPool* buffers = nullptr;
  Poller* poller = nullptr;
  RequestStatePool* states = nullptr;
  ListenerCounters listener;
  ServerCounters server;
  std::shared_ptr<const Snapshot> snapshot;
  bool draining = false;  // answer with Connection: close and end keep-alive loops
  bool stopping = false;  // worker shutdown: aborted requests are not retried or counted
  absl::flat_hash_set<DownstreamSession*> sessions;  // open client connections
};

}  // namespace rwproxy

#endif  // RWPROXY_SERVER_HTTP_WORKER_CONTEXT_H_
