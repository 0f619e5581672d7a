#include "server/upstream/retry.h"

#include <algorithm>

namespace rwproxy {

bool MayRetry(const RetrySpec& spec, TryResult result, int status, bool idempotent) {
  const uint32_t on = spec.on;
  switch (result) {
    case TryResult::kConnectFailure:
      return (on & (kRetryConnectFailure | kRetry5xx)) != 0;
    case TryResult::kReset:
      return (on & (kRetryReset | kRetry5xx)) != 0;
    case TryResult::kPerTryTimeout:  // delivered and maybe being acted upon: idempotent only
      return (idempotent || spec.non_idempotent) &&
             (on & (kRetryReset | kRetryGatewayError | kRetry5xx)) != 0;
    case TryResult::kResponse:
      break;
  }
  if (!idempotent && !spec.non_idempotent) return false;
  if ((on & kRetry5xx) && status >= 500 && status <= 599) return true;
  if ((on & kRetryGatewayError) && (status == 502 || status == 503 || status == 504)) return true;
  return (on & kRetryStatusCodes) && std::find(spec.status_codes.begin(), spec.status_codes.end(),
                                               status) != spec.status_codes.end();
}

absl::Duration Backoff(const RetrySpec& spec, int retry, uint64_t random) {
  absl::Duration ceiling = spec.backoff_base;
  for (int i = 1; i < retry && ceiling < spec.backoff_max; ++i) ceiling *= 2;
  ceiling = std::min(ceiling, spec.backoff_max);
  const int64_t us = absl::ToInt64Microseconds(ceiling);
  if (us <= 0) return absl::ZeroDuration();
  return absl::Microseconds(static_cast<int64_t>(random % static_cast<uint64_t>(us)));
}

}  // namespace rwproxy
