// Resilience fields of config.proto -> spec.h. See translate_resilience.h.
#include "config/translate_resilience.h"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <iterator>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"

namespace rwproxy::config::translate_internal {
namespace {

namespace v1 = ::rwproxy::config::v1;

constexpr uint32_t kMaxThreshold = 100;  // health check thresholds: 1..100
constexpr uint32_t kMaxWeight = 10000;   // backend weights: 0..10000
constexpr uint32_t kMaxRetries = 10;     // retry.max: 1..10

struct RetryCondition {
  const char* name;
  RetryOn bit;
};
constexpr RetryCondition kRetryConditions[] = {
    {"connect-failure", kRetryConnectFailure},
    {"reset", kRetryReset},
    {"gateway-error", kRetryGatewayError},
    {"retriable-status-codes", kRetryStatusCodes},
    {"5xx", kRetry5xx},
};
constexpr char kRetryConditionList[] =
    "connect-failure, reset, gateway-error, retriable-status-codes, 5xx";

// A written duration, or nullopt when the field is empty or invalid (the error is reported).
std::optional<absl::Duration> ParseWritten(const std::string& text, const std::string& path,
                                           Errors* errors) {
  if (text.empty()) return std::nullopt;
  const size_t before = errors->count();
  absl::Duration d = ParseDurationField(text, absl::ZeroDuration(), path, errors);
  if (errors->count() != before) return std::nullopt;
  return d;
}

// Resolves a pair that must satisfy *low <= *high. A side that is not written takes its default,
// clamped to the written side. Returns false when both are written and low > high.
bool ResolvePair(std::optional<absl::Duration> low_written, absl::Duration low_default,
                 std::optional<absl::Duration> high_written, absl::Duration high_default,
                 absl::Duration* low, absl::Duration* high) {
  if (low_written && high_written) {
    *low = *low_written;
    *high = *high_written;
    return *low <= *high;
  }
  if (low_written) {
    *low = *low_written;
    *high = std::max(high_default, *low);
  } else if (high_written) {
    *high = *high_written;
    *low = std::min(low_default, *high);
  } else {
    *low = low_default;
    *high = high_default;
  }
  return true;
}

// "200" or "200-399" (spaces around the numbers are allowed). On failure returns false with the
// reason in *why.
bool ParseStatusRange(absl::string_view text, StatusRange* out, std::string* why) {
  size_t dash = text.find('-');
  absl::string_view low_text = absl::StripAsciiWhitespace(text.substr(0, dash));
  absl::string_view high_text = dash == absl::string_view::npos
                                    ? low_text
                                    : absl::StripAsciiWhitespace(text.substr(dash + 1));
  auto is_status = [](absl::string_view s) {
    return s.size() == 3 && std::all_of(s.begin(), s.end(), absl::ascii_isdigit);
  };
  if (!is_status(low_text) || !is_status(high_text) || !absl::SimpleAtoi(low_text, &out->low) ||
      !absl::SimpleAtoi(high_text, &out->high)) {
    return *why = "use NNN or NNN-MMM, e.g. 200 or 200-399", false;
  }
  if (out->low < 100 || out->high > 599) return *why = "statuses must be 100..599", false;
  if (out->low > out->high) {
    return *why = absl::StrCat(out->low, " is greater than ", out->high), false;
  }
  return true;
}

uint32_t Threshold(bool has, uint32_t value, uint32_t fallback, const std::string& field,
                   Errors* errors) {
  if (!has) return fallback;
  if (value < 1 || value > kMaxThreshold) {
    errors->Add(field, absl::StrCat("must be 1..", kMaxThreshold, ", got ", value));
    return fallback;
  }
  return value;
}

HealthCheckSpec TranslateHealthCheck(const v1::HealthCheck& check, const std::string& path,
                                     Errors* errors) {
  HealthCheckSpec spec;
  spec.path = check.path();
  if (check.path().empty()) {
    errors->Add(path + ".path", "path is required, e.g. /healthz");
  } else {
    CheckPath(check.path(), path + ".path", errors);
  }
  std::optional<absl::Duration> interval =
      ParseWritten(check.interval(), path + ".interval", errors);
  std::optional<absl::Duration> timeout = ParseWritten(check.timeout(), path + ".timeout", errors);
  if (!ResolvePair(timeout, spec.timeout, interval, spec.interval, &spec.timeout, &spec.interval)) {
    errors->Add(path + ".timeout", absl::StrCat("timeout ", check.timeout(),
                                                " must not exceed interval ", check.interval()));
  }
  spec.unhealthy_threshold =
      Threshold(check.has_unhealthy_threshold(), check.unhealthy_threshold(),
                spec.unhealthy_threshold, path + ".unhealthy_threshold", errors);
  spec.healthy_threshold = Threshold(check.has_healthy_threshold(), check.healthy_threshold(),
                                     spec.healthy_threshold, path + ".healthy_threshold", errors);
  if (!check.expected_statuses().empty()) {
    spec.expected_statuses.clear();
    for (int i = 0; i < check.expected_statuses_size(); ++i) {
      const std::string& text = check.expected_statuses(i);
      StatusRange range;
      std::string why;
      if (!ParseStatusRange(text, &range, &why)) {
        errors->Add(absl::StrCat(path, ".expected_statuses[", i, "]"),
                    absl::StrCat("invalid status range '", text, "': ", why));
        continue;
      }
      spec.expected_statuses.push_back(range);
    }
  }
  if (!check.host().empty()) {
    CheckHostHeader(check.host(), path + ".host", errors);
    spec.host = check.host();
  }
  return spec;
}

OutlierSpec TranslateOutlier(const v1::OutlierDetection& outlier, const std::string& path,
                             Errors* errors) {
  OutlierSpec spec;
  if (outlier.has_consecutive_5xx()) spec.consecutive_5xx = outlier.consecutive_5xx();
  if (outlier.has_consecutive_connect_failures()) {
    spec.consecutive_connect_failures = outlier.consecutive_connect_failures();
  }
  if (spec.consecutive_5xx == 0 && spec.consecutive_connect_failures == 0) {
    errors->Add(path,
                "at least one of consecutive_5xx, consecutive_connect_failures must be > 0 "
                "(remove outlier_detection to turn it off)");
  }
  if (outlier.has_max_ejection_percent()) {
    spec.max_ejection_percent = outlier.max_ejection_percent();
    if (spec.max_ejection_percent > 100) {
      errors->Add(path + ".max_ejection_percent",
                  absl::StrCat("must be 0..100, got ", outlier.max_ejection_percent()));
      spec.max_ejection_percent = 100;
    }
  }
  std::optional<absl::Duration> base =
      ParseWritten(outlier.base_ejection_time(), path + ".base_ejection_time", errors);
  std::optional<absl::Duration> max =
      ParseWritten(outlier.max_ejection_time(), path + ".max_ejection_time", errors);
  if (!ResolvePair(base, spec.base_ejection_time, max, spec.max_ejection_time,
                   &spec.base_ejection_time, &spec.max_ejection_time)) {
    errors->Add(
        path + ".max_ejection_time",
        absl::StrCat("max_ejection_time ", outlier.max_ejection_time(),
                     " must not be less than base_ejection_time ", outlier.base_ejection_time()));
  }
  return spec;
}

}  // namespace

void TranslateResilience(const v1::Cluster& cluster, const std::string& path, ClusterSpec* spec,
                         Errors* errors) {
  spec->dns_refresh =
      ParseDurationField(cluster.dns_refresh(), spec->dns_refresh, path + ".dns_refresh", errors);
  if (cluster.has_health_check()) {
    spec->health_check =
        TranslateHealthCheck(cluster.health_check(), path + ".health_check", errors);
  }
  if (cluster.has_outlier_detection()) {
    spec->outlier =
        TranslateOutlier(cluster.outlier_detection(), path + ".outlier_detection", errors);
  }
  const v1::CircuitBreakers& breakers = cluster.circuit_breakers();
  if (breakers.has_max_requests()) {
    if (breakers.max_requests() < 1) {
      errors->Add(path + ".circuit_breakers.max_requests", "must be >= 1");
    } else {
      spec->breakers.max_requests = breakers.max_requests();
    }
  }
  if (breakers.has_max_retries()) spec->breakers.max_retries = breakers.max_retries();
  const v1::RetryBudget& budget = cluster.retry_budget();
  if (budget.has_ratio()) {
    const double ratio = budget.ratio();
    if (std::isnan(ratio) || ratio < 0 || ratio > 1) {
      errors->Add(path + ".retry_budget.ratio",
                  absl::StrCat("ratio must be between 0 and 1, got ", ratio));
    } else {
      spec->retry_budget.ratio = ratio;
    }
  }
  if (budget.has_min_per_second()) spec->retry_budget.min_per_second = budget.min_per_second();
}

ClusterAction TranslateBackends(const v1::Route& route, const std::string& path,
                                const ClusterIndex& clusters, Errors* errors) {
  if (route.action_case() != v1::Route::ACTION_NOT_SET) {
    const char* other = route.action_case() == v1::Route::kCluster    ? "cluster"
                        : route.action_case() == v1::Route::kRedirect ? "redirect"
                                                                      : "respond";
    errors->Add(path + ".backends", absl::StrCat(other, " and backends are exclusive"));
  }
  ClusterAction action;
  absl::flat_hash_map<std::string, int> seen;
  uint64_t total = 0;
  for (int j = 0; j < route.backends_size(); ++j) {
    const v1::Backend& backend = route.backends(j);
    const std::string field = absl::StrCat(path, ".backends[", j, "]");
    const size_t before = errors->count();
    CheckClusterRef(backend.cluster(), field + ".cluster", clusters, errors);
    if (errors->count() == before) {
      auto [it, inserted] = seen.emplace(backend.cluster(), j);
      if (!inserted) {
        errors->Add(field + ".cluster",
                    absl::StrCat("duplicate backend cluster '", backend.cluster(), "' (first at ",
                                 path, ".backends[", it->second, "])"));
        continue;
      }
    }
    BackendSpec out{backend.cluster(), backend.has_weight() ? backend.weight() : 1};
    if (out.weight > kMaxWeight) {
      errors->Add(field + ".weight",
                  absl::StrCat("weight must be 0..", kMaxWeight, ", got ", out.weight));
    }
    total += out.weight;
    action.backends.push_back(std::move(out));
  }
  if (total == 0) errors->Add(path + ".backends", "at least one backend needs a weight > 0");
  return action;
}

std::optional<RetrySpec> TranslateRetry(const v1::Route& route, const std::string& path,
                                        Errors* errors) {
  if (!route.has_retry()) return std::nullopt;
  const v1::RetryPolicy& retry = route.retry();
  const std::string at = path + ".retry";
  const bool misplaced =
      route.action_case() == v1::Route::kRedirect || route.action_case() == v1::Route::kRespond;
  if (misplaced) errors->Add(at, "retry is only allowed on cluster and backends routes");
  RetrySpec spec;
  if (retry.on().empty()) {
    errors->Add(at + ".on", absl::StrCat("at least one retry condition is required (",
                                         kRetryConditionList, ")"));
  }
  for (int k = 0; k < retry.on_size(); ++k) {
    const std::string& name = retry.on(k);
    const std::string field = absl::StrCat(at, ".on[", k, "]");
    const RetryCondition* found =
        std::find_if(std::begin(kRetryConditions), std::end(kRetryConditions),
                     [&](const RetryCondition& c) { return name == c.name; });
    if (found == std::end(kRetryConditions)) {
      errors->Add(field, absl::StrCat("unknown retry condition '", name, "' (use ",
                                      kRetryConditionList, ")"));
    } else if ((spec.on & found->bit) != 0) {
      errors->Add(field, absl::StrCat("duplicate retry condition '", name, "'"));
    } else {
      spec.on |= found->bit;
    }
  }
  for (int k = 0; k < retry.status_codes_size(); ++k) {
    const uint32_t code = retry.status_codes(k);
    const std::string field = absl::StrCat(at, ".status_codes[", k, "]");
    if (code < 100 || code > 599) {
      errors->Add(field, absl::StrCat("status code must be 100..599, got ", code));
    } else if (std::find(spec.status_codes.begin(), spec.status_codes.end(),
                         static_cast<int>(code)) != spec.status_codes.end()) {
      errors->Add(field, absl::StrCat("duplicate status code ", code));
    } else {
      spec.status_codes.push_back(static_cast<int>(code));
    }
  }
  const bool wants_codes = (spec.on & kRetryStatusCodes) != 0;
  if (wants_codes && retry.status_codes().empty()) {
    errors->Add(at + ".status_codes", "status_codes is required with retriable-status-codes");
  } else if (!wants_codes && !retry.status_codes().empty()) {
    errors->Add(at + ".status_codes",
                "status_codes needs retriable-status-codes in retry.on (or remove it)");
  }
  if (retry.has_max()) {
    if (retry.max() == 0) {
      errors->Add(at + ".max", absl::StrCat("max must be 1..", kMaxRetries,
                                            "; remove retry to disable retries"));
    } else if (retry.max() > kMaxRetries) {
      errors->Add(at + ".max", absl::StrCat("max must be 1..", kMaxRetries, ", got ", retry.max()));
    } else {
      spec.max = retry.max();
    }
  }
  if (std::optional<absl::Duration> per_try =
          ParseWritten(retry.per_try_timeout(), at + ".per_try_timeout", errors)) {
    spec.per_try_timeout = *per_try;
  }
  const v1::Backoff& backoff = retry.backoff();
  std::optional<absl::Duration> base = ParseWritten(backoff.base(), at + ".backoff.base", errors);
  std::optional<absl::Duration> max = ParseWritten(backoff.max(), at + ".backoff.max", errors);
  if (!ResolvePair(base, spec.backoff_base, max, spec.backoff_max, &spec.backoff_base,
                   &spec.backoff_max)) {
    errors->Add(at + ".backoff.max", absl::StrCat("max ", backoff.max(),
                                                  " must not be less than base ", backoff.base()));
  }
  spec.non_idempotent = retry.non_idempotent();
  if (misplaced) return std::nullopt;
  return spec;
}

}  // namespace rwproxy::config::translate_internal
