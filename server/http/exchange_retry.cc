// One try of an exchange and the retry decision (RetrySpec, server/upstream/retry.h).
#include "absl/strings/str_cat.h"
#include "server/http/body_relay.h"
#include "server/http/exchange.h"
#include "server/http/wire.h"

namespace rwproxy::exchange_internal {

Task<Failure> Exchange::Attempt() {
  acquire_error_ = AcquireError::kNone;
  if (record_) {  // the log reports the last try's timings
    record_->connect_us = 0;
    record_->first_byte_us = -1;
  }
  if (!lease_ && !TakeIdle()) {
    co_await Acquire(false);
    if (!lease_) {
      acquire_error_ = lease_.error();
      co_return Failure::kUpstream;
    }
  }
  Failure failure = co_await SendAndReadHead();
  if (failure == Failure::kUpstream && lease_.reused() && !response_started_ && !streamed_ &&
      (replayable_method_ || framing_body_ == BodyKind::kNone)) {
    // The stale keep-alive race: the upstream closed this idle connection as we reused it.
    // The request (a buffered body included) is still whole in wire_: send it again on a fresh
    // one. A non-idempotent request with a body may have been acted upon: never replayed.
    ++counters_->upstream_rq_retry_stale;
    lease_.Release(false);
    client_.deadline.upstream = nullptr;
    if (co_await Acquire(true) != Failure::kNone) {
      acquire_error_ = lease_.error();
      co_return Failure::kUpstream;
    }
    failure = co_await SendAndReadHead();
  }
  co_return failure;
}

bool Exchange::ShouldRetry(TryResult result) const {
  if (!route_.retry || retries_ >= static_cast<int>(route_.retry->max) ||
      retries_ + 1 >= kMaxTried || streamed_ || Clock::now() >= overall_) {
    return false;
  }
  // Part of an answer arrived (and may have been relayed): the try is not repeatable.
  if (result != TryResult::kResponse && result != TryResult::kConnectFailure && response_started_) {
    return false;
  }
  return MayRetry(*route_.retry, result, response_.status, replayable_method_);
}

void Exchange::DiscardResponse() {
  UpstreamConn& conn = lease_.conn();
  const int status = response_.status;
  const bool bodiless =
      head_method_ || status == 204 || status == 304 || rframing_.body == BodyKind::kNone;
  const uint64_t length = bodiless ? 0 : rframing_.length;
  if ((bodiless || rframing_.body == BodyKind::kLength) &&
      conn.buffer.size() >= response_.size + length) {
    const int64_t hint = KeepAliveHintMs(response_, conn.buffer.data());
    conn.buffer.Consume(response_.size + length);
    lease_.Release(rframing_.reusable, hint);
    return;
  }
  lease_.Release(false);  // the rest of the answer is not worth waiting for
}

Task<bool> Exchange::WaitBackoff() {
  const absl::Duration wait = Backoff(*route_.retry, retries_, ctx_.clusters->Random());
  if (wait <= absl::ZeroDuration()) co_return true;
  Clock::time_point at = std::min(overall_, Clock::now() + absl::ToChronoNanoseconds(wait));
  auto [ec] =
      co_await boost::asio::async_initiate<decltype(kUseTuple), void(boost::system::error_code)>(
          [this, at](auto handler) {
            EventSocket::Handler stored(std::move(handler));
            ctx_.poller->After(at, std::move(stored));
          },
          kUseTuple);
  co_return !ec;
}

}  // namespace rwproxy::exchange_internal
