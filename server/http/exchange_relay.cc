// Phases 9-10: the response relayed to the client, then Finish (the lease back to the pool).
#include "absl/strings/str_cat.h"
#include "server/http/body_relay.h"
#include "server/http/exchange.h"
#include "server/http/wire.h"

namespace rwproxy::exchange_internal {

Task<ExchangeOutcome> Exchange::RelayResponse() {
  UpstreamConn& conn = lease_.conn();
  client_.deadline.upstream = &conn.socket;
  const int status = response_.status;
  counters_->CountResponse(static_cast<unsigned>(status));
  const bool bodiless = head_method_ || status == 204 || status == 304;
  BodyState body;
  body.kind = bodiless ? BodyKind::kNone : rframing_.body;
  body.remaining = rframing_.length;
  body.done = body.kind == BodyKind::kNone;
  // A small body is read whole, then goes out in the same write as the head.
  if (body.kind == BodyKind::kLength && body.remaining <= kMaxBufferedBody) {
    while (conn.buffer.size() < response_.size + body.remaining) {
      RouteDeadline();
      size_t room = response_.size + body.remaining - conn.buffer.size();
      IoStatus io =
          co_await ReadSome(conn.socket, conn.buffer, client_.deadline, room, kMaxUpstreamBuffer);
      if (io != IoStatus::kOk) {
        client_.deadline.upstream = nullptr;
        co_return Fail(io == IoStatus::kTimeout ? Failure::kTimeout : Failure::kBadResponse);
      }
    }
  }
  const char* base = conn.buffer.data();
  const int64_t hint = KeepAliveHintMs(response_, base);
  ClientHead out;
  out.client_minor = client_minor_;
  out.bodiless = bodiless;
  out.length = body.remaining;
  out.body = body.kind;
  if (body.kind == BodyKind::kChunked || body.kind == BodyKind::kUntilClose) {
    out.body = client_minor_ == 1 ? BodyKind::kChunked : BodyKind::kUntilClose;
  }
  out.keep_alive = client_keep_ && !ctx_.draining && out.body != BodyKind::kUntilClose;
  out.ops = &route_.response_headers;
  Gather& head = client_.state.client_wire;
  head.Clear();
  BuildClientHead(response_, base, rframing_, out, &client_.state.client_head, &head);
  const bool whole =
      body.kind == BodyKind::kLength && conn.buffer.size() >= response_.size + body.remaining;
  if (whole) {
    head.Add(base + response_.size, body.remaining);
    body.remaining = 0;
    body.done = true;
  }
  if (!body.done) client_.socket.SetNoDelay();  // the body follows the head in more writes
  client_.deadline.After(kClientIoTimeout);
  std::span<boost::asio::const_buffer> rest = head.span();
  if (record_) {
    record_->status = status;
    for (const auto& piece : rest) record_->response_bytes += piece.size();
  }
  IoStatus io = TryWrite(client_.socket, &rest, client_.deadline);
  if (io == IoStatus::kWait) io = co_await WriteAll(client_.socket, rest, client_.deadline);
  conn.buffer.Consume(response_.size + (whole ? rframing_.length : 0));
  client_.buffer.Consume(client_used_);
  client_used_ = 0;
  ExchangeOutcome outcome;
  outcome.request_consumed = true;
  bool complete = io == IoStatus::kOk;
  if (complete && !body.done) {
    uint64_t sent = 0;
    RelayStatus relay = co_await RelayBody(conn.socket, conn.buffer, &body, client_.socket,
                                           out.body == BodyKind::kChunked, client_.deadline,
                                           {route_timeout_, kClientIoTimeout}, &sent, &reason_);
    if (relay == RelayStatus::kReadTimeout) ++counters_->upstream_rq_timeout;
    if (relay == RelayStatus::kBadFraming) ++counters_->upstream_rq_bad_response;
    complete = relay == RelayStatus::kOk;
    if (record_) {
      record_->response_bytes += sent;
      if (relay == RelayStatus::kReadTimeout) record_->flags |= kFlagTimeout;
      if (relay == RelayStatus::kReadFailed) record_->flags |= kFlagReset;
      if (relay == RelayStatus::kBadFraming) record_->flags |= kFlagBadResponse;
      if (relay == RelayStatus::kWriteFailed) record_->flags |= kFlagDownstreamClosed;
    }
  }
  if (record_ && io != IoStatus::kOk) record_->flags |= kFlagDownstreamClosed;
  client_.deadline.upstream = nullptr;
  lease_.Release(complete && rframing_.reusable && body.done, hint);
  outcome.keep_alive = complete && out.keep_alive;  // a partial response ends the connection
  co_return outcome;
}

}  // namespace rwproxy::exchange_internal
