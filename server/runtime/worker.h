// One worker thread: its io_context, its SO_REUSEPORT listening socket, its ClusterManager (pools)
// and counters, and the snapshot it currently serves. Everything a connection touches lives here,
// so the request path takes no lock.
//
// Ownership: owned by Server. Thread-safety: the public methods may be called from any thread;
// they post to the worker's io_context and call back on the worker thread.
#ifndef RWPROXY_SERVER_RUNTIME_WORKER_H_
#define RWPROXY_SERVER_RUNTIME_WORKER_H_

#include <functional>
#include <memory>
#include <optional>
#include <thread>

#include "boost/asio/io_context.hpp"
#include "boost/asio/ip/tcp.hpp"
#include "server/http/io.h"
#include "server/http/worker_context.h"
#include "server/tls/server_tls.h"
#include "server/upstream/cluster_manager.h"

namespace rwproxy {

class Worker {
 public:
  // `sink` receives outlier reports; `workers` is how many share the retry budgets' floors;
  // `seed` (0: random) seeds this worker's random choices (traffic split, random LB, backoff).
  Worker(EndpointRegistry* registry, OutlierSink* sink, int index, int workers, uint64_t seed);
  // Before Start(): lines go to `log` (null: off).
  void SetAccessLog(AccessLog* log);
  ~Worker();

  // Binds (SO_REUSEPORT) and starts the thread. Returns the bound endpoint or an error text.
  bool Listen(const boost::asio::ip::tcp::endpoint& endpoint, std::string* error);
  // The TLS listener (before Start()): connections handshake with the certificates in `slot`
  // (owned by the Server) and count in listener "tls".
  bool ListenTls(const boost::asio::ip::tcp::endpoint& endpoint, const ServerTlsSlot* slot,
                 std::string* error);
  void Start();

  // Swaps the snapshot and reconciles pools on the worker thread, then calls done there.
  void Apply(std::shared_ptr<const Snapshot> snapshot, std::shared_ptr<const HostMap> hosts,
             std::function<void()> done);
  // Before Start() only: applies on the calling thread.
  void ApplyNow(std::shared_ptr<const Snapshot> snapshot, std::shared_ptr<const HostMap> hosts);
  // Newer endpoint health (posted by the EndpointMonitor through the Server).
  void SetHosts(std::shared_ptr<const HostMap> hosts);
  // Runs `task` on the worker thread.
  void Post(std::function<void()> task);
  // Collects counters on the worker thread and hands them to done there.
  void Collect(std::function<void(StatsSnapshot)> done);
  // Collects the per-version traffic (server/stats/traffic.h) on the worker thread and hands it
  // to done there.
  void CollectTraffic(std::function<void(VersionTraffic)> done);
  // Stop accepting; sessions answer with Connection: close and idle ones end.
  void BeginDrain();
  void Stop();

  boost::asio::ip::tcp::endpoint local_endpoint() const;
  boost::asio::ip::tcp::endpoint tls_local_endpoint() const;

 private:
  void Sweep();

  // io_context whose shutdown (destroying every pending handler, and so every session coroutine)
  // the Worker can run while its members are still alive.
  class IoContext : public boost::asio::io_context {
   public:
    using boost::asio::io_context::io_context;
    void DestroyHandlers() { shutdown(); }
  };
  using Acceptor = boost::asio::basic_socket_acceptor<boost::asio::ip::tcp, Executor>;
  bool Bind(const boost::asio::ip::tcp::endpoint& endpoint, std::optional<Acceptor>* acceptor,
            boost::asio::ip::tcp::endpoint* bound, std::string* error);

  // One thread runs it; other threads only post to it, so reactor I/O needs no locking.
  IoContext io_{BOOST_ASIO_CONCURRENCY_HINT_UNSAFE_IO};
  Poller poller_{io_};
  BufferPool buffers_;
  RequestStatePool states_;
  ClusterManager clusters_;
  RequestIdGenerator request_ids_;
  std::optional<AccessLogBuffer> access_log_;
  WorkerContext ctx_;
  std::optional<Acceptor> acceptor_;  // binds and listens; Start() moves its fd to listener_
  EventSocket listener_{&poller_};
  boost::asio::ip::tcp::endpoint bound_;
  std::optional<Acceptor> tls_acceptor_;
  EventSocket tls_listener_{&poller_};
  boost::asio::ip::tcp::endpoint tls_bound_;
  const ServerTlsSlot* tls_slot_ = nullptr;
  std::vector<DownstreamSession*> sweep_sessions_;  // reused by each sweep
  std::thread thread_;
};

}  // namespace rwproxy

#endif  // RWPROXY_SERVER_RUNTIME_WORKER_H_
