#include "control/guard.h"

#include <algorithm>
#include <cmath>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "config/numbers.h"

namespace rwproxy::control {

absl::StatusOr<std::optional<GuardSettings>> ParseGuard(const v1::Guard& guard) {
  if (guard.duration().empty()) {
    if (guard.has_max_error_ratio() || guard.has_min_requests()) {
      return absl::InvalidArgumentError(
          "guard.duration: required when guard.max_error_ratio or guard.min_requests is set");
    }
    return std::optional<GuardSettings>();
  }
  GuardSettings settings;
  if (!absl::ParseDuration(guard.duration(), &settings.duration) ||
      settings.duration == absl::InfiniteDuration()) {
    return absl::InvalidArgumentError(
        absl::StrCat("guard.duration: '", guard.duration(), "' is not a duration (e.g. 30s, 2m)"));
  }
  if (settings.duration < kMinGuardDuration || settings.duration > kMaxGuardDuration) {
    return absl::InvalidArgumentError(
        absl::StrCat("guard.duration: ", guard.duration(), " is out of range (1s..1h)"));
  }
  if (guard.has_max_error_ratio()) {
    const double ratio = guard.max_error_ratio();
    if (!std::isfinite(ratio) || ratio < 0 || ratio > 1) {
      return absl::InvalidArgumentError(absl::StrCat("guard.max_error_ratio: ", ratio,
                                                     " is out of range (0..1, e.g. 0.01 for 1%)"));
    }
    settings.max_error_ratio = ratio;
  }
  if (guard.has_min_requests()) {
    if (guard.min_requests() == 0) {
      return absl::InvalidArgumentError("guard.min_requests: must be at least 1");
    }
    settings.min_requests = guard.min_requests();
  }
  return std::optional<GuardSettings>(settings);
}

double Ratio(uint64_t errors, uint64_t requests) {
  return requests == 0 ? 0.0 : static_cast<double>(errors) / static_cast<double>(requests);
}

GuardDecision Decide(const GuardSettings& settings, const GuardSample& sample, bool window_over) {
  const double ratio = Ratio(sample.errors, sample.requests);
  const double previous = Ratio(sample.previous_errors, sample.previous_requests);
  if (sample.requests >= settings.min_requests && ratio > settings.max_error_ratio &&
      ratio > previous) {
    return GuardDecision::kRevert;
  }
  return window_over ? GuardDecision::kKeep : GuardDecision::kWatch;
}

GuardSample SampleOf(const PendingGuard& guard, const VersionTraffic& traffic, int64_t now_ms,
                     v1::GuardVerdict* verdict) {
  GuardSample sample;
  const VersionTrafficEntry& now = traffic.Of(guard.version);
  sample.requests = now.total.requests;
  sample.errors = now.total.errors;
  // The previous version over the same length of time before the apply: whole seconds, the
  // apply's own second included (it holds the last of the previous version's traffic).
  const int64_t elapsed_ms = std::max<int64_t>(0, now_ms - guard.applied_ms);
  const int64_t seconds =
      std::clamp<int64_t>((elapsed_ms + 999) / 1000, 1, TrafficCounter::kRingSeconds);
  const int64_t apply_second = SecondOfMs(guard.applied_ms);
  const TrafficCounts before =
      traffic.Of(guard.previous_version).Window(apply_second - seconds + 1, apply_second);
  sample.previous_requests = before.requests;
  sample.previous_errors = before.errors;
  if (verdict != nullptr) {
    verdict->set_requests(sample.requests);
    verdict->set_errors(sample.errors);
    verdict->set_error_ratio(Ratio(sample.errors, sample.requests));
    verdict->set_previous_requests(sample.previous_requests);
    verdict->set_previous_errors(sample.previous_errors);
    verdict->set_previous_error_ratio(Ratio(sample.previous_errors, sample.previous_requests));
    uint64_t kind_count = 0, route_count = 0;
    const ErrorKind kind = now.TopKind(&kind_count);
    verdict->set_top_error_kind(ErrorKindName(kind));
    verdict->set_top_error_kind_count(kind_count);
    verdict->set_top_error_route(now.TopRoute(&route_count));
    verdict->set_elapsed_ms(elapsed_ms);
  }
  return sample;
}

v1::GuardVerdict PendingVerdict(const GuardSettings& settings) {
  v1::GuardVerdict verdict;
  verdict.set_outcome(v1::GuardVerdict::PENDING);
  verdict.set_duration(absl::FormatDuration(settings.duration));
  verdict.set_max_error_ratio(settings.max_error_ratio);
  verdict.set_min_requests(settings.min_requests);
  return verdict;
}

std::string RevertText(const v1::GuardVerdict& verdict, uint64_t version) {
  std::string detail;
  if (!verdict.top_error_kind().empty()) {
    detail =
        absl::StrCat(verdict.top_error_kind(), ": ", WithCommas(verdict.top_error_kind_count()),
                     " of ", WithCommas(verdict.requests()));
  } else {
    detail = absl::StrCat(WithCommas(verdict.errors()), " of ", WithCommas(verdict.requests()));
  }
  if (!verdict.top_error_route().empty()) {
    absl::StrAppend(&detail, "; route ", verdict.top_error_route());
  }
  return absl::StrCat("guard: version ", version, " reverted after ", SecondsText(verdict.elapsed_ms()),
                      ": ", ErrorPercent(verdict.error_ratio()), " errors (", detail, ") vs ",
                      ErrorPercent(verdict.previous_error_ratio()), " before");
}

std::string KeepText(const v1::GuardVerdict& verdict) {
  if (verdict.requests() < verdict.min_requests()) {
    return absl::StrCat("too few requests: ", WithCommas(verdict.requests()), " < ",
                        WithCommas(verdict.min_requests()), "; kept");
  }
  const std::string errors =
      absl::StrCat(ErrorPercent(verdict.error_ratio()), " errors (", WithCommas(verdict.errors()),
                   " of ", WithCommas(verdict.requests()), ")");
  if (verdict.error_ratio() <= verdict.max_error_ratio()) {
    return absl::StrCat(errors, ", not above the maximum ", ErrorPercent(verdict.max_error_ratio()),
                        "; kept");
  }
  return absl::StrCat(errors, ", not above ", ErrorPercent(verdict.previous_error_ratio()), " before (",
                      WithCommas(verdict.previous_errors()), " of ",
                      WithCommas(verdict.previous_requests()), "); kept");
}

}  // namespace rwproxy::control
