// Guarded applies: the rules, kept pure so they are tested with tables (no threads, no clock).
//
// After a guarded apply that changed the config, the ConfigStore (control/config_store.h) watches
// the new version's traffic on its guard thread: during `duration`, as soon as at least
// `min_requests` requests ran on the new version and its error ratio is above `max_error_ratio`
// AND above the previous version's ratio over the same length of time before the apply (at most
// TrafficCounter::kRingSeconds), the previous content is re-applied as a new version (source
// "guard"). When the window ends without that, the version is kept. An error is a response with
// status >= 500 or a local "no route" 404 (server/stats/traffic.h).
//
// This file has: the settings (parsed and checked from the proto), the decision (counts in,
// decision out), the sample (the counts a decision needs, taken from the data plane's
// VersionTraffic) and the texts of verdicts.
//
// Ownership: plain values and free functions. Thread-safety: reentrant.
#ifndef RWPROXY_CONTROL_GUARD_H_
#define RWPROXY_CONTROL_GUARD_H_

#include <cstdint>
#include <memory>
#include <optional>
#include <string>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "proto/config.pb.h"
#include "proto/control.pb.h"
#include "server/stats/traffic.h"

namespace rwproxy::control {

struct GuardSettings {
  absl::Duration duration = absl::ZeroDuration();
  double max_error_ratio = 0.01;
  uint64_t min_requests = 100;
};

inline constexpr absl::Duration kMinGuardDuration = absl::Seconds(1);
inline constexpr absl::Duration kMaxGuardDuration = absl::Hours(1);

// The settings of `guard`; nullopt when guard.duration is empty (no guard). INVALID_ARGUMENT
// naming the field ("guard.duration: ...", "guard.max_error_ratio: ...") otherwise.
absl::StatusOr<std::optional<GuardSettings>> ParseGuard(const v1::Guard& guard);

// The counts one decision needs.
struct GuardSample {
  uint64_t requests = 0;  // on the guarded version, since the apply
  uint64_t errors = 0;
  uint64_t previous_requests = 0;  // on the previous version, the same length of time before
  uint64_t previous_errors = 0;
};

// errors / requests; 0 when there are no requests.
double Ratio(uint64_t errors, uint64_t requests);

enum class GuardDecision {
  kWatch,   // keep watching
  kRevert,  // enough requests, above the maximum and above the previous version
  kKeep,    // the window is over without a revert
};

// Revert as soon as the rule holds (early); keep once `window_over`; else watch.
GuardDecision Decide(const GuardSettings& settings, const GuardSample& sample, bool window_over);

// The guard of one version, while it watches.
struct PendingGuard {
  v1::VersionInfo info;           // the guarded version's info (PENDING), as applied
  uint64_t version = 0;           // the guarded version
  uint64_t previous_version = 0;  // the live version before it
  GuardSettings settings;
  int64_t applied_ms = 0;  // steady clock, ms since its epoch (the clock of traffic buckets)
  // The previous version's content: what a revert re-applies (kept here, so a revert does not
  // depend on the history's limits).
  std::shared_ptr<const config::v1::Config> previous_config;
};

// The sample of `guard` at steady time `now_ms`, from the data plane's traffic; also fills the
// counts, ratios, top error kind/route and elapsed_ms of `verdict` (outcome untouched).
GuardSample SampleOf(const PendingGuard& guard, const VersionTraffic& traffic, int64_t now_ms,
                     v1::GuardVerdict* verdict);

// The PENDING verdict of a new guard (the settings filled in).
v1::GuardVerdict PendingVerdict(const GuardSettings& settings);

// "guard: version 8 reverted after 6.1 s: 38.0% errors (no route: 4,700 of 12,350; route api)
// vs 0.1% before" (the description of the revert version and the verdict's reason).
std::string RevertText(const v1::GuardVerdict& verdict, uint64_t version);
// Why a version was kept: "too few requests: 12 < 100; kept", "0.02% errors (3 of 12,410), not
// above the maximum 1.00%; kept" or "5.0% errors (...), not above 6.0% before; kept".
std::string KeepText(const v1::GuardVerdict& verdict);

// 12345 -> "12,345".


}  // namespace rwproxy::control

#endif  // RWPROXY_CONTROL_GUARD_H_
