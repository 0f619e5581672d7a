// A pool of keep-alive connections to ONE upstream endpoint, for ONE worker thread. States, as in
// Envoy's per-worker pools: idle (ready, watched for an upstream close), busy (lent to a request),
// connecting, and a bounded queue of waiting requests. Any route or rewrite that picks this
// endpoint on this worker reuses the same idle connections.
//
// max_connections holds proxy-wide: every worker's pool for an endpoint shares one atomic count
// (EndpointShared), touched only when a connection opens or closes, never per request.
//
// Ownership: owned by the worker's ClusterManager; connections are shared_ptr so a lent connection
// outlives a pool that is being drained. Thread-safety: owning worker thread only.
#ifndef RWPROXY_SERVER_UPSTREAM_CONN_POOL_H_
#define RWPROXY_SERVER_UPSTREAM_CONN_POOL_H_

#include <atomic>
#include <chrono>
#include <deque>
#include <memory>
#include <vector>

#include "boost/asio/awaitable.hpp"
#include "boost/asio/steady_timer.hpp"
#include "boost/beast/core/flat_buffer.hpp"
#include "boost/beast/core/tcp_stream.hpp"
#include "server/config/snapshot.h"
#include "server/stats/counters.h"

namespace rwproxy {

using Clock = std::chrono::steady_clock;

// Shared by every worker's pool for one endpoint.
struct EndpointShared {
  std::atomic<uint32_t> connections{0};
};

struct UpstreamConn {
  explicit UpstreamConn(const boost::asio::any_io_executor& ex) : stream(ex) {}
  boost::beast::tcp_stream stream;
  boost::beast::flat_buffer buffer;
  uint32_t requests = 0;  // requests sent on this connection
  bool idle = false;
  uint64_t idle_epoch = 0;
  Clock::time_point idle_deadline;
};

enum class AcquireError { kNone, kOverflow, kConnectFailed, kConnectTimeout };

struct Lease {
  std::shared_ptr<UpstreamConn> conn;
  bool reused = false;
  AcquireError error = AcquireError::kNone;
};

class ConnPool {
 public:
  ConnPool(boost::asio::any_io_executor executor, EndpointInfo endpoint,
           std::shared_ptr<EndpointShared> shared, PoolSpec spec);
  ~ConnPool();
  ConnPool(const ConnPool&) = delete;
  ConnPool& operator=(const ConnPool&) = delete;

  // An idle connection if one is alive (unless fresh_only), else a new one if the endpoint is
  // below max_connections, else waits in the queue until `deadline`. Counts into *counters.
  boost::asio::awaitable<Lease> Acquire(ClusterCounters* counters, absl::Duration connect_timeout,
                                        Clock::time_point deadline, bool fresh_only);

  // Returns a lent connection. `reusable` only if request and response were complete and both
  // sides allow keep-alive; `keep_alive_hint` is the upstream's Keep-Alive: timeout (or zero).
  void Release(std::shared_ptr<UpstreamConn> conn, bool reusable,
               std::chrono::milliseconds keep_alive_hint);

  // Closes expired idle connections and wakes waiters when capacity freed up elsewhere.
  void Sweep(Clock::time_point now);
  // The endpoint left the config: close idle connections now, busy ones when released.
  void Drain();
  void Undrain() { draining_ = false; }
  void SetSpec(const PoolSpec& spec) { spec_ = spec; }

  bool draining() const { return draining_; }
  bool empty() const { return busy_ == 0 && idle_.empty() && waiters_.empty(); }
  size_t busy() const { return busy_; }
  size_t idle() const { return idle_.size(); }
  const EndpointInfo& endpoint() const { return endpoint_; }

 private:
  struct Waiter {
    explicit Waiter(const boost::asio::any_io_executor& ex) : timer(ex) {}
    boost::asio::steady_timer timer;
    std::shared_ptr<UpstreamConn> conn;  // handed over by Release
    bool may_connect = false;            // a slot freed up
  };

  bool ReserveSlot();
  void ReleaseSlot();
  void Close(const std::shared_ptr<UpstreamConn>& conn);
  void MakeIdle(std::shared_ptr<UpstreamConn> conn, std::chrono::milliseconds keep_alive_hint);
  void WatchIdle(const std::shared_ptr<UpstreamConn>& conn);
  void RemoveIdle(UpstreamConn* conn);
  std::shared_ptr<UpstreamConn> TakeIdle(Clock::time_point now);
  void WakeOneToConnect();
  boost::asio::awaitable<Lease> Connect(ClusterCounters* counters, absl::Duration timeout);

  boost::asio::any_io_executor executor_;
  EndpointInfo endpoint_;
  std::shared_ptr<EndpointShared> shared_;
  PoolSpec spec_;
  std::vector<std::shared_ptr<UpstreamConn>> idle_;  // LIFO: warmest last
  std::deque<Waiter*> waiters_;
  size_t busy_ = 0;  // lent or connecting
  bool draining_ = false;
};

}  // namespace rwproxy

#endif  // RWPROXY_SERVER_UPSTREAM_CONN_POOL_H_
