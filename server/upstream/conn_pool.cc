#include "server/upstream/conn_pool.h"

#include <sys/socket.h>

#include <algorithm>

#include <cerrno>

#include "absl/strings/str_cat.h"
#include "boost/asio/post.hpp"
#include "server/log/log.h"

namespace rwproxy {
namespace asio = boost::asio;
using tcp = asio::ip::tcp;

Lease& Lease::operator=(Lease&& other) noexcept {
  if (this != &other) {
    Release(false);
    pool_ = other.pool_;
    conn_ = std::move(other.conn_);
    reused_ = other.reused_;
    error_ = other.error_;
    reason_ = std::move(other.reason_);
    other.pool_ = nullptr;
  }
  return *this;
}

void Lease::Release(bool reusable, int64_t keep_alive_hint_ms) {
  if (!conn_) return;
  pool_->Release(std::move(conn_), reusable, keep_alive_hint_ms);
  conn_ = nullptr;
  pool_ = nullptr;
}

ConnPool::ConnPool(Executor executor, Poller* poller, BufferPool* buffers, EndpointInfo endpoint,
                   std::shared_ptr<EndpointShared> shared, PoolSpec spec)
    : executor_(std::move(executor)),
      poller_(poller),
      buffers_(buffers),
      endpoint_(std::move(endpoint)),
      shared_(std::move(shared)),
      spec_(spec) {}

ConnPool::~ConnPool() {
  for (auto& conn : idle_) Close(conn);
  idle_.clear();
}

bool ConnPool::ReserveSlot() {
  uint32_t current = shared_->connections.load(std::memory_order_relaxed);
  while (current < spec_.max_connections) {
    if (shared_->connections.compare_exchange_weak(current, current + 1,
                                                   std::memory_order_relaxed)) {
      return true;
    }
  }
  return false;
}

void ConnPool::ReleaseSlot() { shared_->connections.fetch_sub(1, std::memory_order_relaxed); }

void ConnPool::Close(const std::shared_ptr<UpstreamConn>& conn) {
  conn->idle = false;
  ++conn->idle_epoch;
  conn->socket.Close();
  ReleaseSlot();
  WakeOneToConnect();
}

void ConnPool::WakeOneToConnect() {
  if (waiters_.empty()) return;
  Waiter* waiter = waiters_.front();
  waiters_.pop_front();
  waiter->may_connect = true;
  Resume(waiter);
}

std::shared_ptr<UpstreamConn> ConnPool::TakeIdle(Clock::time_point now) {
  while (!idle_.empty()) {
    std::shared_ptr<UpstreamConn> conn = std::move(idle_.back());
    idle_.pop_back();
    if (conn->idle_deadline <= now || Unusable(*conn)) {
      Close(conn);
      continue;
    }
    conn->idle = false;
    ++conn->idle_epoch;
    return conn;
  }
  return nullptr;
}

Task<Lease> ConnPool::Connect(ClusterCounters* counters, absl::Duration timeout,
                              Deadline* deadline) {
  ++busy_;
  auto conn = std::make_shared<UpstreamConn>(poller_, buffers_);
  const Clock::time_point route_deadline = deadline->at;
  deadline->at = std::min(route_deadline, Clock::now() + absl::ToChronoMilliseconds(timeout));
  deadline->upstream = &conn->socket;
  boost::system::error_code ec = conn->socket.StartConnect(endpoint_.address);
  if (!ec) {
    auto [wait_ec] = co_await conn->socket.Wait(Socket::kWrite, kUseTuple);
    ec = wait_ec ? wait_ec : conn->socket.ConnectResult();
  }
  std::optional<Lease> failed;
  if (!ec && tls_) failed = co_await Handshake(*conn, counters, deadline);
  const bool timed_out = deadline->expired;
  deadline->upstream = nullptr;
  deadline->at = route_deadline;
  deadline->expired = deadline->at <= Clock::now();
  if (ec) {
    --busy_;
    ReleaseSlot();
    WakeOneToConnect();
    ++counters->upstream_cx_connect_fail;
    ++this->counters.cx_connect_fail;
    co_return Lease(timed_out ? AcquireError::kConnectTimeout : AcquireError::kConnectFailed);
  }
  if (failed) {
    conn->socket.Close();
    --busy_;
    ReleaseSlot();
    WakeOneToConnect();
    ++this->counters.cx_connect_fail;
    if (timed_out) {
      ++counters->upstream_cx_connect_fail;
      co_return Lease(AcquireError::kConnectTimeout);
    }
    co_return std::move(*failed);
  }
  ++counters->upstream_cx_total;
  co_return Lease(this, std::move(conn), false);
}

Task<std::optional<Lease>> ConnPool::Handshake(UpstreamConn& conn, ClusterCounters* counters,
                                               Deadline* deadline) {
  std::unique_ptr<TlsStream> stream =
      TlsStream::Create(tls_->context(), conn.socket.native_handle(), /*server=*/false, buffers_);
  if (!stream || !tls_->Prepare(stream->ssl(), server_name_)) {
    ++counters->upstream_tls_handshake_fail;
    co_return Lease(AcquireError::kTlsFailed, "cannot set up TLS (server name)");
  }
  conn.socket.SetTls(std::move(stream));
  IoStatus io = co_await TlsHandshake(conn.socket, *deadline);
  if (io == IoStatus::kOk) {
    ++counters->upstream_tls_handshakes;
    co_return std::nullopt;
  }
  ++counters->upstream_tls_handshake_fail;
  if (io == IoStatus::kTimeout) co_return Lease(AcquireError::kConnectTimeout);
  std::string reason = io == IoStatus::kError ? conn.socket.tls()->error()
                                              : std::string("connection closed in the handshake");
  const Clock::time_point now = Clock::now();
  if (now - last_tls_warning_ >= std::chrono::seconds(1)) {  // at most one line a second
    last_tls_warning_ = now;
    log::Warn("upstream", absl::StrCat("TLS handshake with ", endpoint_.key, " (", server_name_,
                                       ") failed: ", reason));
  }
  co_return Lease(AcquireError::kTlsFailed, std::move(reason));
}

Lease ConnPool::TakeIdleLease(ClusterCounters* counters) {
  auto conn = TakeIdle(Clock::now());
  if (!conn) return Lease();
  ++busy_;
  ++counters->upstream_rq_reused;
  return Lease(this, std::move(conn), true);
}

Task<Lease> ConnPool::Acquire(ClusterCounters* counters, absl::Duration connect_timeout,
                              Deadline* deadline, bool fresh_only) {
  if (!fresh_only) {
    if (Lease lease = TakeIdleLease(counters)) co_return lease;
  }
  if (ReserveSlot()) co_return co_await Connect(counters, connect_timeout, deadline);
  if (waiters_.size() >= spec_.max_pending) {
    ++counters->upstream_rq_overflow;
    co_return Lease(AcquireError::kOverflow);
  }
  Waiter waiter;
  waiter.deadline = deadline->at;
  ++waiting_;
  co_await boost::asio::async_initiate<decltype(kUseTuple), void(boost::system::error_code)>(
      [this, &waiter](auto handler) {
        EventSocket::Handler stored(std::move(handler));
        waiter.handler.swap(stored);
        waiters_.push_back(&waiter);
      },
      kUseTuple);
  --waiting_;
  if (waiter.conn) {
    ++counters->upstream_rq_reused;
    co_return Lease(this, std::move(waiter.conn), true);  // stayed busy
  }
  if (waiter.may_connect && ReserveSlot()) {
    co_return co_await Connect(counters, connect_timeout, deadline);
  }
  ++counters->upstream_rq_overflow;
  co_return Lease(AcquireError::kOverflow);
}

void ConnPool::Release(std::shared_ptr<UpstreamConn> conn, bool reusable,
                       int64_t keep_alive_hint_ms) {
  bool under_limit = spec_.max_requests_per_connection == 0 ||
                     conn->requests < spec_.max_requests_per_connection;
  if (reusable && under_limit && !draining_ && available_ && conn->buffer.empty() &&
      !Unusable(*conn)) {
    conn->buffer.ReleaseIfEmpty();
    if (!waiters_.empty()) {  // hand it over; it stays busy
      Waiter* waiter = waiters_.front();
      waiters_.pop_front();
      waiter->conn = std::move(conn);
      Resume(waiter);
      return;
    }
    --busy_;
    if (idle_.size() < spec_.max_idle) {
      MakeIdle(std::move(conn), keep_alive_hint_ms);
      return;
    }
    Close(conn);
    return;
  }
  --busy_;
  Close(conn);
}

bool ConnPool::Unusable(UpstreamConn& conn) {
  if (conn.socket.peer_closed) return true;
  if (TlsStream* tls = conn.socket.tls()) {
    if (SSL_has_pending(tls->ssl())) return true;  // bytes nobody asked for, read ahead
    if (!conn.socket.readable) return false;
    if (tls->Unusable()) return true;  // a close, an error, or stray records
    conn.socket.readable = false;      // drained (a session ticket, at most, was read)
    return false;
  }
  if (!conn.socket.readable) return false;
  // A readiness event since the response was read, or a read that filled its buffer: look.
  char byte;
  ssize_t n = ::recv(conn.socket.native_handle(), &byte, 1, MSG_PEEK | MSG_DONTWAIT);
  if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
    conn.socket.readable = false;
    return false;
  }
  return true;  // a close, an error, or stray bytes
}

void ConnPool::MakeIdle(std::shared_ptr<UpstreamConn> conn, int64_t keep_alive_hint_ms) {
  auto keep = absl::ToChronoMilliseconds(spec_.idle_timeout);
  if (keep_alive_hint_ms > 0) {
    // Close before the upstream does: a second early (half the hint for short hints).
    std::chrono::milliseconds hint(keep_alive_hint_ms);
    auto margin = std::min(std::chrono::milliseconds(1000), hint / 2);
    keep = std::min(keep, hint - margin);
  }
  if (TlsStream* tls = conn->socket.tls()) tls->ReleaseBuffers();  // an idle connection holds none
  conn->idle = true;
  ++conn->idle_epoch;
  conn->idle_deadline = Clock::now() + keep;
  idle_.push_back(std::move(conn));
}

void ConnPool::Resume(Waiter* waiter) {
  boost::asio::post(executor_, [h = std::move(waiter->handler)]() mutable {
    std::move(h)(boost::system::error_code());
  });
  waiter->handler = nullptr;
}

void ConnPool::AbortWaiters() {
  while (!waiters_.empty()) {
    Waiter* waiter = waiters_.front();
    waiters_.pop_front();
    Resume(waiter);  // neither a connection nor a slot: kOverflow
  }
}

void ConnPool::Sweep(Clock::time_point now) {
  // Queued requests whose deadline passed give up (503).
  for (auto it = waiters_.begin(); it != waiters_.end();) {
    if ((*it)->deadline <= now) {
      Waiter* waiter = *it;
      it = waiters_.erase(it);
      Resume(waiter);
    } else {
      ++it;
    }
  }
  for (size_t i = 0; i < idle_.size();) {
    if (idle_[i]->idle_deadline <= now || Unusable(*idle_[i])) {
      std::shared_ptr<UpstreamConn> conn = std::move(idle_[i]);
      idle_.erase(idle_.begin() + i);
      Close(conn);
    } else {
      ++i;
    }
  }
  // Capacity may have been freed by another worker's pool for the same endpoint.
  uint32_t open = shared_->connections.load(std::memory_order_relaxed);
  for (uint32_t free = open < spec_.max_connections ? spec_.max_connections - open : 0;
       free > 0 && !waiters_.empty(); --free) {
    WakeOneToConnect();
  }
}

void ConnPool::Drain() {
  draining_ = true;
  CloseIdle();
}

void ConnPool::CloseIdle() {
  while (!idle_.empty()) {
    std::shared_ptr<UpstreamConn> conn = std::move(idle_.back());
    idle_.pop_back();
    Close(conn);
  }
}

}  // namespace rwproxy
