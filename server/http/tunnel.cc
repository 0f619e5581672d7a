// Upgrade tunnels (RFC 9110 §7.8; WebSocket, RFC 6455 §4): after the upstream's 101 to an
// upgrade offer the route allows, the 101 goes to the client and the two connections become one
// byte pipe, plain or TLS on either side. The upstream connection never returns to its pool (the
// lease closes it at the end) and holds its max_connections slot and the request's circuit
// breaker slot while open. A config apply does not touch it (pools drain idle connections only;
// the tunnel keeps its lease and its own copy of the route's settings); a drain leaves it open
// until the drain timeout ends the worker. It ends at the first close or error on either side
// (after what was read from that side has been written to the other), or when no byte moved
// either way for the route's upgrade_idle_timeout (the connection's deadline, moved at each
// transfer and checked by the worker's sweep).
#include "absl/strings/str_cat.h"
#include "boost/asio/experimental/awaitable_operators.hpp"
#include "server/http/body_relay.h"
#include "server/http/exchange.h"
#include "server/http/wire.h"

namespace rwproxy::exchange_internal {

namespace {
// Counts the tunnel in upgrades_active while it is open.
class ActiveTunnel {
 public:
  explicit ActiveTunnel(ServerCounters& counters) : counters_(counters) {
    ++counters_.upgrades_total;
    ++counters_.upgrades_active;
  }
  ~ActiveTunnel() { --counters_.upgrades_active; }
  ActiveTunnel(const ActiveTunnel&) = delete;
  ActiveTunnel& operator=(const ActiveTunnel&) = delete;

 private:
  ServerCounters& counters_;
};
}  // namespace

void Exchange::EndTunnel() {
  client_.deadline.expired = true;  // the other direction's next operation returns at once
  client_.socket.Cancel();
  if (lease_) lease_->socket.Cancel();
}

Task<void> Exchange::Pump(Socket& from, Buffer& in, Socket& to, uint64_t* moved) {
  Deadline& deadline = client_.deadline;
  const auto idle = absl::ToChronoNanoseconds(route_.upgrade_idle_timeout);
  for (;;) {
    if (!in.empty()) {
      boost::asio::const_buffer bytes(in.data(), in.size());
      std::span<boost::asio::const_buffer> rest(&bytes, 1);
      IoStatus io = TryWrite(to, &rest, deadline);
      if (io == IoStatus::kWait) io = co_await WriteAll(to, rest, deadline);
      if (io != IoStatus::kOk) break;
      *moved += in.size();
      in.Consume(in.size());
      if (!deadline.expired) deadline.at = ctx_.poller->Now() + idle;
    }
    IoStatus io = TryRead(from, in, deadline, kReadRoom, BufferPool::kBlockSize);
    if (io == IoStatus::kWait) {
      in.ReleaseIfEmpty();  // a quiet tunnel holds no buffer (this pump is `to`'s only writer)
      if (to.tls()) to.tls()->ReleaseBuffers();
      auto [ec] = co_await from.Wait(Socket::kRead, kUseTuple);
      if (AfterWait(ec, deadline) != IoStatus::kWait) break;
      continue;
    }
    if (io != IoStatus::kOk) break;
    if (!deadline.expired) deadline.at = ctx_.poller->Now() + idle;
  }
  EndTunnel();
}

Task<ExchangeOutcome> Exchange::Tunnel() {
  UpstreamConn& conn = lease_.conn();
  std::string_view upgrade;
  for (int i = 0; i < response_.header_count; ++i) {
    if (EqualsIgnoreCase(response_.headers[i].name.In(conn.buffer.data()), "upgrade")) {
      upgrade = response_.headers[i].value.In(conn.buffer.data());
    }
  }
  Gather& head = client_.state.client_wire;
  head.Clear();
  ClientHead params;
  params.upgrade = upgrade;
  BuildClientHead(response_, conn.buffer.data(), rframing_, params, &client_.state.client_head,
                  &head);
  if (record_) record_->status = 101;
  client_.deadline.upstream = nullptr;
  client_.deadline.After(kClientIoTimeout);
  IoStatus io = co_await WriteAll(client_.socket, head.span(), client_.deadline);
  if (io != IoStatus::kOk) {
    lease_.Release(false);
    if (record_) record_->flags |= kFlagDownstreamClosed;
    co_return ExchangeOutcome{};
  }
  // Bytes either side sent right behind the heads are the tunnel's first bytes.
  conn.buffer.Consume(response_.size);
  client_.buffer.Consume(client_used_);
  client_used_ = 0;
  ActiveTunnel active(ctx_.server);
  client_.deadline.upstream = &conn.socket;
  client_.deadline.at = ctx_.poller->Now() + absl::ToChronoNanoseconds(route_.upgrade_idle_timeout);
  client_.deadline.expired = false;
  uint64_t up = 0;
  uint64_t down = 0;
  using namespace boost::asio::experimental::awaitable_operators;  // NOLINT: a && b
  co_await (Pump(client_.socket, client_.buffer, conn.socket, &up) &&
            Pump(conn.socket, conn.buffer, client_.socket, &down));
  client_.deadline.upstream = nullptr;
  lease_.Release(false);  // never back to the pool
  if (record_) {
    record_->request_bytes += up;
    record_->response_bytes = down;
  }
  co_return ExchangeOutcome{};  // the client connection closes with the tunnel
}

}  // namespace rwproxy::exchange_internal
