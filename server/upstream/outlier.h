// Outlier ejection rules (passive health), as pure functions of the state and `now`, so they are
// tested without timers. An endpoint is ejected when consecutive 5xx answers (resets and
// timeouts count as 5xx) or consecutive connect failures reach their threshold. The ejection
// lasts base_ejection_time, doubled for each consecutive ejection (ejected again within one
// ejection time of coming back), capped at max_ejection_time; a quiet stretch resets the level.
// At most max_ejection_percent of a cluster's endpoints are ejected at once, but at least one may
// be (as Envoy does), unless the percentage is 0.
//
// Ownership: EjectionState lives in the EndpointMonitor's per-endpoint state.
// Thread-safety: pure functions; the state belongs to the monitor thread.
#ifndef RWPROXY_SERVER_UPSTREAM_OUTLIER_H_
#define RWPROXY_SERVER_UPSTREAM_OUTLIER_H_

#include <chrono>
#include <cstddef>
#include <cstdint>

#include "absl/time/time.h"
#include "config/spec.h"

namespace rwproxy {

struct EjectionState {
  using Clock = std::chrono::steady_clock;
  bool ejected = false;
  uint32_t level = 0;            // consecutive ejections; the last one lasted Duration(level)
  Clock::time_point until{};     // while ejected
  Clock::time_point returned{};  // when the last ejection ended
};

// base * 2^(level-1), capped at max.
absl::Duration EjectionDuration(const OutlierSpec& spec, uint32_t level);

// Whether one more endpoint of `total` may be ejected while `ejected` are.
bool MayEject(size_t ejected, size_t total, uint32_t max_percent);

// Ejects now; returns the ejection's duration.
absl::Duration Eject(const OutlierSpec& spec, EjectionState* state,
                     EjectionState::Clock::time_point now);

// Ends the ejection if its time has come; returns true if it did.
bool MaybeReturn(EjectionState* state, EjectionState::Clock::time_point now);

}  // namespace rwproxy

#endif  // RWPROXY_SERVER_UPSTREAM_OUTLIER_H_
