// The Exchange: phases 5-10 of one proxied request (see upstream_exchange.h), split over
// upstream_exchange.cc (body, send, response head, the try loop), exchange_retry.cc (one try,
// the retry decision, backoff) and exchange_relay.cc (relaying the response, Finish).
// Internal to server/http.
//
// Ownership: an Exchange lives on the session's coroutine frame, one per request.
// Thread-safety: the worker thread that owns the session.
#ifndef RWPROXY_SERVER_HTTP_EXCHANGE_H_
#define RWPROXY_SERVER_HTTP_EXCHANGE_H_

#include <string>

#include "absl/strings/str_cat.h"
#include "server/http/upstream_exchange.h"
#include "server/upstream/retry.h"

namespace rwproxy::exchange_internal {

constexpr size_t kReadRoom = 4096;
constexpr size_t kMaxClientBuffer = kMaxHeadSize + kMaxBufferedBody + 4096;
constexpr size_t kMaxUpstreamBuffer = kMaxHeadSize + kMaxBufferedBody + 4096;
constexpr int kMaxInterim = 8;

enum class Failure { kNone, kTimeout, kUpstream, kBadResponse, kClient, kBadRequest };

class Exchange {
 public:
  Exchange(ClientSide client, WorkerContext& ctx, const ClusterInfo& cluster,
           const RouteDecision& decision)
      : client_(client),
        ctx_(ctx),
        cluster_(cluster),
        route_(*decision.route),
        decision_(decision),
        route_timeout_(absl::ToChronoMilliseconds(route_.timeout)),
        wire_(client.state.upstream_wire),
        head_copy_(client.state.head_copy),
        body_copy_(client.state.body_copy),
        response_(client.state.response) {
    wire_.Clear();
    body_copy_.clear();
  }

  Task<ExchangeOutcome> Run();

 private:
  ExchangeOutcome Local(int status, std::string reason) {
    ExchangeOutcome out;
    out.local_status = status;
    out.local_reason = std::move(reason);
    if (body_.done) {  // the whole request was read: the connection can go on
      client_.buffer.Consume(client_used_);
      client_used_ = 0;
      out.request_consumed = true;
    }
    return out;
  }
  ExchangeOutcome Fail(Failure failure);
  // Moves the upstream head out of the client buffer so that the body can be read into it.
  void DetachHead();
  Task<Failure> ReadBody(bool buffer_all);
  Task<Failure> Acquire(bool fresh_only);
  bool TakeIdle();  // a warm pooled connection, without suspending
  // One try: a connection (warm or new), the request, the response head. The stale keep-alive
  // retry happens inside it and is not a retry of the route's policy.
  Task<Failure> Attempt();
  // Whether the try that ended in `result` is retried (policy, replayability, deadline).
  bool ShouldRetry(TryResult result) const;
  // Drops an answer that will be retried; keeps the connection when the whole answer is here.
  void DiscardResponse();
  Task<bool> WaitBackoff();
  // The access log's flags for a try that ended in `failure`.
  void NoteTry(Failure failure) {
    switch (acquire_error_) {
      case AcquireError::kConnectFailed:
      case AcquireError::kConnectTimeout:
      case AcquireError::kTlsFailed:
        record_->flags |= kFlagConnectFailure;
        return;
      case AcquireError::kOverflow:
        record_->flags |= kFlagOverflow;
        return;
      case AcquireError::kNone:
        break;
    }
    switch (failure) {
      case Failure::kNone:
        break;
      case Failure::kTimeout:
        record_->flags |= kFlagTimeout;
        break;
      case Failure::kUpstream:
        record_->flags |= kFlagReset;
        break;
      case Failure::kBadResponse:
        record_->flags |= kFlagBadResponse;
        break;
      case Failure::kClient:
        record_->flags |= kFlagDownstreamClosed;
        break;
      case Failure::kBadRequest:
        record_->flags |= kFlagBadRequest;
        break;
    }
  }
  // The try's deadline: the route's (over all tries), or per_try_timeout if sooner.
  void TryDeadline() {
    client_.deadline.at = overall_;
    client_.deadline.expired = false;
    per_try_bound_ = false;
    if (route_.retry && route_.retry->per_try_timeout) {
      Clock::time_point at =
          Clock::now() + absl::ToChronoNanoseconds(*route_.retry->per_try_timeout);
      if (at < overall_) {
        client_.deadline.at = std::chrono::time_point_cast<Clock::duration>(at);
        per_try_bound_ = true;
      }
    }
  }
  Task<Failure> SendAndReadHead();
  Task<Failure> ReadResponseHead();
  Task<ExchangeOutcome> RelayResponse();
  // After a 101 to a tunnelled upgrade offer (tunnel.cc): the 101 goes to the client, then bytes
  // flow both ways until either side closes or upgrade_idle_timeout passes with no byte.
  Task<ExchangeOutcome> Tunnel();
  Task<void> Pump(Socket& from, Buffer& in, Socket& to, uint64_t* moved);
  void EndTunnel();
  void RouteDeadline() {
    client_.deadline.After(route_timeout_);
    per_try_bound_ = false;
  }

  ClientSide client_;
  WorkerContext& ctx_;
  const ClusterInfo& cluster_;
  const CompiledRoute& route_;
  const RouteDecision& decision_;
  const Clock::duration route_timeout_;
  Gather& wire_;            // what is sent upstream before any streamed body
  std::string& head_copy_;  // the upstream head, when the client buffer must take a body
  std::string& body_copy_;  // a chunked body, re-chunked, while it is buffered
  MessageHead& response_;
  ConnPool* pool_ = nullptr;  // valid while a try runs (see ClusterManager::Choose)
  AccessRecord* record_ = nullptr;  // the access log's record, when the log is on
  ClusterManager::ClusterState* state_ = nullptr;
  ClusterCounters* counters_ = nullptr;
  BreakerSlot breaker_;     // this request, against max_requests
  BreakerSlot retry_slot_;  // the retry under way, against max_retries
  Clock::time_point overall_{};
  bool per_try_bound_ = false;
  AcquireError acquire_error_ = AcquireError::kNone;
  static constexpr int kMaxTried = 11;  // RetrySpec::max is at most 10
  ConnPool* tried_[kMaxTried] = {};
  int retries_ = 0;
  bool replayable_method_ = false;
  Lease lease_;
  BodyState body_;
  size_t client_used_ = 0;  // bytes at the client buffer's front that belong to this request
  BodyKind framing_body_ = BodyKind::kNone;
  bool streamed_ = false;  // the body is relayed after the head: no replay possible
  size_t host_piece_ = 0;  // the piece of wire_ that holds the Host line
  std::string host_line_;  // the Host line of this try, with host_from_endpoint
  bool response_started_ = false;
  const char* reason_ = "";
  ResponseFraming rframing_;
  int client_minor_ = 1;
  bool client_keep_ = true;
  bool head_method_ = false;
  bool upgrade_ = false;  // the request's upgrade offer is sent upstream (the route tunnels it)
  std::string upgrade_sent_;  // its protocols that the route allows: the Upgrade value sent
};

}  // namespace rwproxy::exchange_internal

#endif  // RWPROXY_SERVER_HTTP_EXCHANGE_H_
