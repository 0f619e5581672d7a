// The retry rules of a route (RetrySpec) as pure functions, and the per-worker retry budget.
// What may be retried:
//   connect-failure  the connection could not be opened: nothing was sent
//   reset            the connection closed or reset before any response byte
//   gateway-error    the upstream answered 502, 503 or 504
//   retriable-status-codes  the upstream answered one of status_codes
//   5xx              any 5xx answer, a connect failure, a reset or a per-try timeout
// A per-try timeout is retried under reset, gateway-error and 5xx. Per-try timeouts and answers
// (5xx, gateway-error, status codes) are retried only for idempotent methods unless
// non_idempotent is set (the request reached the upstream, which may be acting on it); every
// retry also needs a replayable request (no body, or a body still buffered), which the exchange
// checks.
//
// Ownership: RetryBudget lives in a worker's ClusterManager, one per cluster. Thread-safety: the
// owning worker thread only; the free functions are pure.
#ifndef RWPROXY_SERVER_UPSTREAM_RETRY_H_
#define RWPROXY_SERVER_UPSTREAM_RETRY_H_

#include <algorithm>
#include <chrono>
#include <cstdint>

#include "absl/time/time.h"
#include "config/spec.h"

namespace rwproxy {

enum class TryResult { kConnectFailure, kReset, kPerTryTimeout, kResponse };

// Whether `result` (with `status` for kResponse) may be retried under `spec`.
bool MayRetry(const RetrySpec& spec, TryResult result, int status, bool idempotent);

// The wait before retry number `retry` (1 for the first): uniformly random in
// [0, min(backoff_max, backoff_base * 2^(retry-1))) ("full jitter"); `random` is any 64-bit draw.
absl::Duration Backoff(const RetrySpec& spec, int retry, uint64_t random);

// Retries may add at most `ratio` of the requests, plus `min_per_second` per second (this
// worker's share of the cluster's min_per_second, refilled continuously). Each request earns
// `ratio` of a retry; each retry spends one. Enforced per worker, so the proxy-wide total stays
// within the same bound.
class RetryBudget {
 public:
  using Clock = std::chrono::steady_clock;
  void OnRequest(double ratio) {
    credit_ += ratio;
    if (credit_ > kMaxCredit) credit_ = kMaxCredit;
  }
  // Takes one retry from the budget if there is one.
  bool TryTake(Clock::time_point now, double min_per_second) {
    if (credit_ >= 1.0) {
      credit_ -= 1.0;
      return true;
    }
    // The floor refills continuously at min_per_second (this worker's share), up to one
    // second's worth but at least one retry, so that a share below one adds up to whole retries.
    const double cap = min_per_second > 0 ? std::max(min_per_second, 1.0) : 0.0;
    if (refilled_ == Clock::time_point{}) {
      floor_ = cap;
    } else {
      floor_ += min_per_second * std::chrono::duration<double>(now - refilled_).count();
    }
    floor_ = std::min(floor_, cap);
    refilled_ = now;
    if (floor_ >= 1.0) {
      floor_ -= 1.0;
      return true;
    }
    return false;
  }

 private:
  static constexpr double kMaxCredit = 1000;  // no unbounded hoard after a quiet stretch
  double credit_ = 0;
  double floor_ = 0;
  Clock::time_point refilled_{};
};

}  // namespace rwproxy

#endif  // RWPROXY_SERVER_UPSTREAM_RETRY_H_
