#include "server/http/upstream_exchange.h"

#include "absl/strings/str_cat.h"
#include "server/http/body_relay.h"
#include "server/http/exchange.h"
#include "server/http/wire.h"

namespace rwproxy {
namespace exchange_internal {

ExchangeOutcome Exchange::Fail(Failure failure) {
  lease_.Release(false);
  client_.deadline.upstream = nullptr;
  const std::string key = pool_ ? pool_->endpoint().key : cluster_.name;
  switch (failure) {
    case Failure::kTimeout:
      ++counters_->upstream_rq_timeout;
      return Local(504, absl::StrCat("upstream timeout after ", absl::FormatDuration(route_.timeout),
                                     " (route ", route_.name, ")"));
    case Failure::kBadResponse:
      ++counters_->upstream_rq_bad_response;
      return Local(502, absl::StrCat("malformed response from upstream ", key, ": ", reason_));
    case Failure::kBadRequest:
      ++client_.listener->downstream_rq_bad;
      if (record_) record_->flags |= kFlagBadRequest;
      body_.done = false;  // framing is lost: close
      return Local(400, absl::StrCat("bad request body: ", reason_));
    case Failure::kClient:
      if (record_) record_->flags |= kFlagDownstreamClosed;
      return ExchangeOutcome{};  // the client is gone or too slow: close without a reply
    default:
      return Local(502, absl::StrCat("upstream ", key, " closed the connection"));
  }
}

void Exchange::DetachHead() {
  head_copy_.clear();
  size_t host_at = 0;  // where the Host line starts in head_copy_
  size_t host_size = 0;
  for (size_t i = 0; i < wire_.count(); ++i) {
    const auto& piece = wire_.span()[i];
    if (i == host_piece_) {
      host_at = head_copy_.size();
      host_size = piece.size();
    }
    head_copy_.append(static_cast<const char*>(piece.data()), piece.size());
  }
  // The Host line stays a piece of its own (host_from_endpoint replaces it per try).
  const std::string_view copy(head_copy_);
  wire_.Clear();
  wire_.Add(copy.substr(0, host_at));
  host_piece_ = wire_.count();
  wire_.Add(copy.substr(host_at, host_size));
  wire_.Add(copy.substr(host_at + host_size));
  client_.buffer.Consume(client_.head.size);
  client_used_ = 0;
}

Task<Failure> Exchange::ReadBody(bool buffer_all) {
  Buffer& in = client_.buffer;
  for (;;) {
    if (body_.kind == BodyKind::kLength) {
      if (in.size() >= body_.remaining) {
        client_used_ = body_.remaining;
        wire_.Add(in.data(), client_used_);
        body_.remaining = 0;
        body_.done = true;
        co_return Failure::kNone;
      }
    } else {
      if (!DecodeBuffered(in, &body_, true, &body_copy_, &reason_)) co_return Failure::kBadRequest;
      if (body_.done || body_copy_.size() > kMaxBufferedBody) {
        wire_.Add(body_copy_);
        streamed_ = !body_.done;
        co_return Failure::kNone;
      }
    }
    if (!buffer_all) {
      streamed_ = true;
      co_return Failure::kNone;
    }
    client_.deadline.After(kClientIoTimeout);
    size_t room = body_.kind == BodyKind::kLength ? body_.remaining - in.size() : kReadRoom;
    if (co_await ReadSome(client_.socket, in, client_.deadline, room, kMaxClientBuffer) !=
        IoStatus::kOk) {
      co_return Failure::kClient;
    }
  }
}

Task<Failure> Exchange::Acquire(bool fresh_only) {
  const Clock::time_point start = record_ ? ctx_.poller->Now() : Clock::time_point();
  lease_ = co_await pool_->Acquire(counters_, cluster_.connect_timeout, &client_.deadline,
                                   fresh_only);
  if (record_ && lease_ && !lease_.reused()) {
    record_->connect_us =
        std::chrono::duration_cast<std::chrono::microseconds>(Clock::now() - start).count();
  }
  co_return lease_ ? Failure::kNone : Failure::kUpstream;
}

bool Exchange::TakeIdle() {
  lease_ = pool_->TakeIdleLease(counters_);
  return static_cast<bool>(lease_);
}

Task<Failure> Exchange::ReadResponseHead() {
  UpstreamConn& conn = lease_.conn();
  size_t scanned = 0;
  for (int interim = 0;;) {
    size_t end = conn.buffer.empty() ? 0 : FindHeadEnd(conn.buffer.view(), &scanned);
    if (end == 0) {
      if (conn.buffer.size() >= kMaxHeadSize) {
        reason_ = "response head too large";
        co_return Failure::kBadResponse;
      }
      // The response is rarely here yet: wait inline (no coroutine frame for the read).
      IoStatus io;
      while ((io = TryRead(conn.socket, conn.buffer, client_.deadline, kReadRoom,
                           kMaxHeadSize + kReadRoom)) == IoStatus::kWait) {
        auto [ec] = co_await conn.socket.Wait(Socket::kRead, kUseTuple);
        if (io = AfterWait(ec, client_.deadline); io != IoStatus::kWait) break;
      }
      if (io == IoStatus::kTimeout) co_return Failure::kTimeout;
      if (io != IoStatus::kOk) {
        response_started_ = response_started_ || !conn.buffer.empty();
        co_return Failure::kUpstream;
      }
      continue;
    }
    response_started_ = true;
    ParseError error;
    if (ParseResponseHead(conn.buffer.view().substr(0, end), &response_, &error) !=
        ParseStatus::kComplete) {
      reason_ = error.reason;
      co_return Failure::kBadResponse;
    }
    PolicyError policy;
    if (!CheckResponse(response_, conn.buffer.data(), head_method_, &rframing_, &policy,
                       upgrade_ ? std::string_view(upgrade_sent_) : std::string_view())) {
      reason_ = policy.reason;
      co_return Failure::kBadResponse;
    }
    if (!rframing_.interim) co_return Failure::kNone;
    if (++interim > kMaxInterim) {
      reason_ = "too many interim responses";
      co_return Failure::kBadResponse;
    }
    if (rframing_.forward_interim && client_minor_ == 1) {  // 102, 103: passed on
      client_.socket.SetNoDelay();  // the final response follows in another write
      Gather& head = client_.state.client_wire;
      head.Clear();
      // No response_headers on a 1xx: they are the final response's (BuildClientHead).
      BuildClientHead(response_, conn.buffer.data(), rframing_, ClientHead{},
                      &client_.state.client_head, &head);
      const Clock::time_point route_deadline = client_.deadline.at;
      client_.deadline.After(kClientIoTimeout);
      if (co_await WriteAll(client_.socket, head.span(), client_.deadline) != IoStatus::kOk) {
        co_return Failure::kClient;
      }
      client_.deadline.at = route_deadline;
    }
    conn.buffer.Consume(response_.size);
    scanned = 0;
  }
}

Task<Failure> Exchange::SendAndReadHead() {
  UpstreamConn& conn = lease_.conn();
  ++conn.requests;
  client_.deadline.upstream = &conn.socket;
  Gather& sending = client_.state.sending;  // wire_ stays whole for a retry
  sending.CopyFrom(wire_);
  if (route_.host_from_endpoint) {
    // Each try names its own endpoint, as configured; ":80" is the default and left out.
    std::string_view host = pool_->endpoint().source;
    if (host.ends_with(":80")) host.remove_suffix(3);
    host_line_.assign("Host: ").append(host).append("\r\n");
    sending.Replace(host_piece_, host_line_);
  }
  const Clock::time_point sent_at = record_ ? ctx_.poller->Now() : Clock::time_point();
  std::span<boost::asio::const_buffer> rest = sending.span();
  IoStatus io = TryWrite(conn.socket, &rest, client_.deadline);
  if (io == IoStatus::kWait) io = co_await WriteAll(conn.socket, rest, client_.deadline);
  if (io != IoStatus::kOk) co_return io == IoStatus::kTimeout ? Failure::kTimeout : Failure::kUpstream;
  if (streamed_) {
    uint64_t sent = 0;
    RelayStatus relay = co_await RelayBody(client_.socket, client_.buffer, &body_, conn.socket,
                                           body_.kind == BodyKind::kChunked, client_.deadline,
                                           {kClientIoTimeout, route_timeout_}, &sent, &reason_);
    switch (relay) {
      case RelayStatus::kOk:
        break;
      case RelayStatus::kBadFraming:
        co_return Failure::kBadRequest;
      case RelayStatus::kWriteFailed:
        co_return client_.deadline.expired ? Failure::kTimeout : Failure::kUpstream;
      default:
        co_return Failure::kClient;
    }
    RouteDeadline();  // the route timeout runs from the end of the upload
    if (record_) record_->request_bytes = client_.head.size + sent;
  }
  const Failure failure = co_await ReadResponseHead();
  if (record_ && failure == Failure::kNone) {
    record_->first_byte_us =
        std::chrono::duration_cast<std::chrono::microseconds>(Clock::now() - sent_at).count();
  }
  co_return failure;
}

Task<ExchangeOutcome> Exchange::Run() {
  state_ = &ctx_.clusters->State(cluster_);
  counters_ = &state_->counters;
  if (ctx_.access_log) {
    record_ = &client_.state.access;
    record_->cluster.assign(cluster_.name);
  }
  breaker_ = ctx_.clusters->AdmitRequest(cluster_, *state_);
  if (!breaker_) {
    if (record_) record_->flags |= kFlagOverflow;
    co_return Local(503, absl::StrCat("circuit breaker open: cluster ", cluster_.name, " has ",
                                      cluster_.breakers.max_requests,
                                      " requests in flight (max_requests)"));
  }
  const RequestFraming& framing = client_.framing;
  client_minor_ = client_.head.version_minor;
  client_keep_ = framing.keep_alive;
  head_method_ = framing.head_method;
  replayable_method_ = IsIdempotent(framing.method);
  body_.kind = framing.body;
  framing_body_ = framing.body;
  body_.remaining = framing.length;
  body_.done = framing.body == BodyKind::kNone;
  client_used_ = client_.head.size;
  if (!ctx_.clusters->HasEndpoints(cluster_, *state_)) {
    co_return Local(503, ctx_.clusters->NoEndpointsReason(cluster_, *state_));
  }

  // The upstream head refers to the client's own field lines in the buffer.
  UpstreamHead params;
  params.target = decision_.target;
  params.host = route_.host_rewrite ? std::string_view(*route_.host_rewrite)
                : !framing.host.empty() ? framing.host
                                        : cluster_.default_host.empty() ? std::string_view(cluster_.name)
                                        : std::string_view(cluster_.default_host);
  params.client_address = client_.address;
  params.body = framing.body;
  params.length = framing.length;
  if (client_.state.request_id_generated) params.request_id = client_.state.request_id;
  params.ops = &route_.request_headers;  // built once: a retry or replay sends the same head
  params.tls = client_.tls;
  // Only the protocols the route allows go upstream (and only those may be switched to).
  upgrade_ = AllowedUpgrades(framing.upgrade, route_.upgrades, &upgrade_sent_);
  if (upgrade_) params.upgrade = upgrade_sent_;
  host_piece_ = BuildUpstreamHead(client_.head, client_.buffer.data(), framing, params,
                                  &client_.state.upstream_head, &wire_);
  if (!body_.done) {
    if (body_.kind == BodyKind::kLength &&
        client_.buffer.size() >= client_.head.size + body_.remaining) {
      wire_.Add(client_.buffer.data() + client_.head.size, body_.remaining);  // already here
      client_used_ += body_.remaining;
      body_.remaining = 0;
      body_.done = true;
    } else {
      DetachHead();
    }
  }
  if (!body_.done) {
    if (framing.expect_continue) {  // the client waits for our go before sending its body
      RouteDeadline();
      pool_ = ctx_.clusters->Choose(cluster_, *state_).pool;  // the lease keeps it alive
      if (Failure f = co_await Acquire(false); f != Failure::kNone) {
        co_return Local(lease_.error() == AcquireError::kOverflow ? 503 : 502,
                        lease_.error() == AcquireError::kTlsFailed
                            ? absl::StrCat("TLS handshake with upstream ", pool_->endpoint().key,
                                           " failed: ", lease_.reason())
                            : absl::StrCat("cannot connect to upstream ", pool_->endpoint().key));
      }
      client_.deadline.After(kClientIoTimeout);
      if (co_await WriteAll(client_.socket, kContinue, client_.deadline) != IoStatus::kOk) {
        co_return Fail(Failure::kClient);
      }
    }
    bool buffer_all = body_.kind == BodyKind::kChunked || body_.remaining <= kMaxBufferedBody;
    if (Failure f = co_await ReadBody(buffer_all); f != Failure::kNone) co_return Fail(f);
  }

  overall_ = Clock::now() + route_timeout_;
  Failure failure = Failure::kNone;
  for (;;) {
    TryDeadline();
    response_started_ = false;
    // The endpoint is picked right before the try (no suspension in between), so a pool that
    // drained while the body was read or during a backoff is never used.
    if (!lease_) {
      pool_ = ctx_.clusters->Choose(cluster_, *state_, std::span<ConnPool* const>(tried_, retries_))
                  .pool;
    }
    failure = co_await Attempt();
    TryResult result = TryResult::kResponse;
    if (ctx_.stopping) {  // worker shutdown aborted it: not the endpoint's fault, no retry
      failure = Failure::kClient;
      acquire_error_ = AcquireError::kNone;
      break;
    }
    if (record_) NoteTry(failure);
    if (failure == Failure::kNone) {
      result = TryResult::kResponse;
    } else if (acquire_error_ == AcquireError::kConnectFailed ||
               acquire_error_ == AcquireError::kConnectTimeout ||
               acquire_error_ == AcquireError::kTlsFailed) {
      result = TryResult::kConnectFailure;
    } else if (acquire_error_ == AcquireError::kOverflow || failure == Failure::kClient ||
               failure == Failure::kBadRequest) {
      break;  // not the endpoint's fault: no outlier count, no retry
    } else if (failure == Failure::kTimeout && per_try_bound_) {
      ++counters_->upstream_rq_per_try_timeout;
      result = TryResult::kPerTryTimeout;
    } else {
      result = TryResult::kReset;  // closed, reset, malformed or the route timeout
    }
    ctx_.clusters->Observe(cluster_, pool_, result, failure == Failure::kNone ? response_.status : 0);
    if ((failure != Failure::kNone && failure != Failure::kUpstream &&
         !(failure == Failure::kTimeout && per_try_bound_)) ||
        !ShouldRetry(result)) {
      break;
    }
    BreakerSlot slot = ctx_.clusters->AdmitRetry(cluster_, *state_);
    if (!slot) {  // budget or max_retries: fail as without retry (counted)
      if (record_) record_->flags |= kFlagRetryLimit;
      break;
    }
    if (result == TryResult::kResponse) {
      DiscardResponse();
    } else {
      lease_.Release(false);
    }
    client_.deadline.upstream = nullptr;  // that connection may now serve another request
    tried_[retries_] = pool_;             // compared, never dereferenced
    pool_ = nullptr;
    ++retries_;
    retry_slot_ = std::move(slot);
    if (!co_await WaitBackoff()) co_return Fail(Failure::kClient);
  }
  client_.deadline.upstream = nullptr;
  if (record_) {
    if (pool_) record_->endpoint.assign(pool_->endpoint().key);
    record_->upstream_reused = lease_ && lease_.reused();
    record_->retries = retries_;
    if (route_.retry && retries_ >= static_cast<int>(route_.retry->max) &&
        (failure != Failure::kNone || response_.status >= 500)) {
      record_->flags |= kFlagRetryLimit;  // still failing when the tries ran out
    }
  }
  if (failure != Failure::kNone) {
    switch (acquire_error_) {
      case AcquireError::kNone:
        break;
      case AcquireError::kOverflow:
        co_return Local(503, absl::StrCat("no upstream capacity for ", pool_->endpoint().key,
                                          " (pool full)"));
      case AcquireError::kConnectTimeout:
        co_return Local(502, absl::StrCat("cannot connect to upstream ", pool_->endpoint().key,
                                          " (timeout)"));
      case AcquireError::kConnectFailed:
        co_return Local(502, absl::StrCat("cannot connect to upstream ", pool_->endpoint().key));
      case AcquireError::kTlsFailed:
        co_return Local(502, absl::StrCat("TLS handshake with upstream ", pool_->endpoint().key,
                                          " (", pool_->server_name(), ") failed: ",
                                          lease_.reason()));
    }
    co_return Fail(failure);
  }
  if (retries_ > 0 && response_.status < 500) ++counters_->upstream_rq_retry_success;
  if (rframing_.switching) co_return co_await Tunnel();
  co_return co_await RelayResponse();
}

}  // namespace exchange_internal

Task<ExchangeOutcome> ProxyToCluster(ClientSide client, WorkerContext& ctx,
                                     const Snapshot& snapshot, const RouteDecision& decision) {
  const CompiledRoute& route = *decision.route;
  const CompiledBackend* backend = &route.backends.front();
  if (route.backends.size() > 1) {  // a weighted split: one draw per request
    backend = &route.PickBackend(ctx.clusters->Random());
    ctx.clusters->CountBackend(route.name, backend->cluster_name);
  }
  const ClusterInfo& cluster = snapshot.clusters[backend->cluster_index];
  exchange_internal::Exchange exchange(client, ctx, cluster, decision);
  ExchangeOutcome outcome = co_await exchange.Run();
  if (outcome.local_status) {
    ctx.clusters->Counters(cluster.name)->CountResponse(outcome.local_status);
  }
  co_return outcome;
}

}  // namespace rwproxy
