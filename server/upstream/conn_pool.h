// A pool of keep-alive connections to ONE upstream endpoint, for ONE worker thread. States, as in
// Envoy's per-worker pools: idle (ready, watched for an upstream close), busy (lent to a request
// through a Lease), connecting, and a bounded queue of waiting requests. Any route or rewrite that
// picks this endpoint on this worker reuses the same idle connections.
//
// max_connections holds proxy-wide: every worker's pool for an endpoint shares one atomic count
// (EndpointShared), touched only when a connection opens or closes, never per request.
//
// An idle connection is watched at no cost: any readiness event on it while idle (a close, or
// bytes nobody asked for) shows in its EventSocket flags, and such a connection is never handed
// out again (checked when taken, and swept).
//
// Ownership: owned by the worker's ClusterManager, which deletes a drained pool only once it is
// empty (no lease, idle connection, or waiter that has yet to resume). Thread-safety: owning worker thread only.
#ifndef RWPROXY_SERVER_UPSTREAM_CONN_POOL_H_
#define RWPROXY_SERVER_UPSTREAM_CONN_POOL_H_

#include <atomic>
#include <chrono>
#include <deque>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "server/config/snapshot.h"
#include "server/http/buffer.h"
#include "server/http/io.h"
#include "server/stats/counters.h"

namespace rwproxy {

// Shared by every worker's pool for one endpoint: the connection count (max_connections) and
// the consecutive-error counts that outlier detection reads across workers. Written with relaxed
// atomics only when they change, never under a lock.
struct EndpointShared {
  std::atomic<uint32_t> connections{0};
  std::atomic<uint32_t> consecutive_5xx{0};
  std::atomic<uint32_t> consecutive_connect_failures{0};
};

// This worker's figures for one endpoint (summed over workers for /clusters).
struct EndpointCounters {
  uint64_t rq_total = 0;         // tries sent to this endpoint
  uint64_t rq_5xx = 0;  // tries that failed: a 5xx answer, a connect failure, reset or timeout
  uint64_t cx_connect_fail = 0;
};

struct UpstreamConn {
  UpstreamConn(Poller* poller, BufferPool* buffers) : socket(poller), buffer(buffers) {}
  Socket socket;
  Buffer buffer;
  uint32_t requests = 0;  // requests sent on this connection
  bool idle = false;
  uint64_t idle_epoch = 0;
  Clock::time_point idle_deadline;
};

// kTlsFailed: connected, but the TLS handshake failed (a certificate not trusted, expired or for
// another name; no common protocol version): treated as a connect failure (outlier detection,
// connect-failure retries), answered 502 with the reason (Lease::reason()).
enum class AcquireError { kNone, kOverflow, kConnectFailed, kConnectTimeout, kTlsFailed };

class ConnPool;

// A connection lent by a pool. It goes back by itself (as not reusable) when the Lease is
// destroyed; Release(true) returns it for reuse.
class Lease {
 public:
  Lease() = default;
  explicit Lease(AcquireError error, std::string reason = {})
      : error_(error), reason_(std::move(reason)) {}
  Lease(ConnPool* pool, std::shared_ptr<UpstreamConn> conn, bool reused)
      : pool_(pool), conn_(std::move(conn)), reused_(reused) {}
  Lease(Lease&& other) noexcept { *this = std::move(other); }
  Lease& operator=(Lease&& other) noexcept;
  ~Lease() { Release(false); }

  // `reusable` only if request and response were complete and both allow keep-alive;
  // `keep_alive_hint_ms` is the upstream's Keep-Alive: timeout (or zero).
  void Release(bool reusable, int64_t keep_alive_hint_ms = 0);

  explicit operator bool() const { return conn_ != nullptr; }
  UpstreamConn* operator->() const { return conn_.get(); }
  UpstreamConn& conn() const { return *conn_; }
  bool reused() const { return reused_; }
  AcquireError error() const { return error_; }
  const std::string& reason() const { return reason_; }  // kTlsFailed: OpenSSL's reason

 private:
  ConnPool* pool_ = nullptr;
  std::shared_ptr<UpstreamConn> conn_;
  bool reused_ = false;
  AcquireError error_ = AcquireError::kNone;
  std::string reason_;
};

class ConnPool {
 public:
  ConnPool(Executor executor, Poller* poller, BufferPool* buffers, EndpointInfo endpoint,
           std::shared_ptr<EndpointShared> shared, PoolSpec spec);
  ~ConnPool();
  ConnPool(const ConnPool&) = delete;
  ConnPool& operator=(const ConnPool&) = delete;

  // An idle connection if one is alive (unless fresh_only), else a new one if the endpoint is
  // below max_connections, else waits in the queue until deadline->at. While connecting, the
  // socket is deadline->upstream and the deadline is at most connect_timeout away.
  Task<Lease> Acquire(ClusterCounters* counters, absl::Duration connect_timeout,
                      Deadline* deadline, bool fresh_only);

  // An idle connection if one is alive, without suspending (the hot path); else an empty Lease.
  Lease TakeIdleLease(ClusterCounters* counters);

  // Closes expired idle connections and those the upstream closed or wrote to while idle, and
  // wakes waiters when capacity freed up elsewhere.
  void Sweep(Clock::time_point now);
  // Worker shutdown: every queued Acquire returns kOverflow now.
  void AbortWaiters();
  // The endpoint left the config: close idle connections now, busy ones when released.
  void Drain();
  void Undrain() { draining_ = false; }
  // The endpoint is unhealthy or ejected: close its idle connections now, busy ones when they
  // come back (none is kept idle until it is available again).
  void SetAvailable(bool available) {
    available_ = available;
    if (!available) CloseIdle();
  }
  void CloseIdle();
  void SetSpec(const PoolSpec& spec) { spec_ = spec; }
  // TLS to this endpoint: new connections handshake with `tls`'s context, sending and verifying
  // `server_name` (client_tls.h). Connections already open keep the context they started with.
  void SetTls(std::shared_ptr<const UpstreamTls> tls, std::string server_name) {
    tls_ = std::move(tls);
    server_name_ = std::move(server_name);
  }
  const std::string& server_name() const { return server_name_; }

  bool draining() const { return draining_; }
  bool empty() const { return busy_ == 0 && idle_.empty() && waiting_ == 0; }
  size_t busy() const { return busy_; }
  size_t idle() const { return idle_.size(); }
  size_t waiting() const { return waiting_; }
  EndpointShared& shared() { return *shared_; }
  EndpointCounters counters;
  const EndpointInfo& endpoint() const { return endpoint_; }

 private:
  friend class Lease;
  // A queued Acquire. No timer of its own: Sweep ends it at its deadline (the route's).
  struct Waiter {
    EventSocket::Handler handler;        // resumes the waiting Acquire
    Clock::time_point deadline;
    std::shared_ptr<UpstreamConn> conn;  // handed over by Release
    bool may_connect = false;            // a slot freed up
  };
  // Resumes a waiter already taken off the queue.
  void Resume(Waiter* waiter);

  void Release(std::shared_ptr<UpstreamConn> conn, bool reusable, int64_t keep_alive_hint_ms);
  bool ReserveSlot();
  void ReleaseSlot();
  void Close(const std::shared_ptr<UpstreamConn>& conn);
  void MakeIdle(std::shared_ptr<UpstreamConn> conn, int64_t keep_alive_hint_ms);
  // The upstream closed the connection or sent bytes since its last response.
  static bool Unusable(UpstreamConn& conn);
  std::shared_ptr<UpstreamConn> TakeIdle(Clock::time_point now);
  void WakeOneToConnect();
  Task<Lease> Connect(ClusterCounters* counters, absl::Duration timeout, Deadline* deadline);
  // After the TCP connect: the TLS handshake (within the same connect deadline). Empty: done.
  Task<std::optional<Lease>> Handshake(UpstreamConn& conn, ClusterCounters* counters,
                                       Deadline* deadline);

  Executor executor_;
  Poller* poller_;
  BufferPool* buffers_;
  EndpointInfo endpoint_;
  std::shared_ptr<EndpointShared> shared_;
  PoolSpec spec_;
  std::vector<std::shared_ptr<UpstreamConn>> idle_;  // LIFO: warmest last
  std::deque<Waiter*> waiters_;
  size_t waiting_ = 0;  // Acquire calls suspended in the queue (woken ones until they resume)
  size_t busy_ = 0;     // lent or connecting
  bool draining_ = false;
  bool available_ = true;
  std::shared_ptr<const UpstreamTls> tls_;  // null: plain TCP
  std::string server_name_;
  Clock::time_point last_tls_warning_{};
};

}  // namespace rwproxy

#endif  // RWPROXY_SERVER_UPSTREAM_CONN_POOL_H_
