#include "cli/guard.h"

#include <algorithm>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/strip.h"
#include "cli/output.h"
#include "config/numbers.h"

namespace rwproxy::cli {

absl::StatusOr<double> ParseRatio(const std::string& text) {
  absl::string_view number = text;
  const bool percent = absl::ConsumeSuffix(&number, "%");
  double value = 0;
  if (number.empty() || !absl::SimpleAtod(number, &value) || !(value == value)) {
    return absl::InvalidArgumentError(
        absl::StrCat("'", text, "' is not a ratio such as 1% or 0.01"));
  }
  if (percent) value /= 100;
  if (value < 0 || value > 1) {
    return absl::InvalidArgumentError(absl::StrCat("'", text, "' is outside 0..1 (0%..100%)"));
  }
  return value;
}

absl::StatusOr<v1::Guard> MakeGuard(const std::string& duration, const std::string& ratio,
                                    std::optional<uint64_t> min_requests) {
  absl::Duration d;
  if (!absl::ParseDuration(duration, &d)) {
    return absl::InvalidArgumentError(
        absl::StrCat("--guard: '", duration, "' is not a duration such as 30s or 2m"));
  }
  if (d < absl::Seconds(1) || d > absl::Hours(1)) {
    return absl::InvalidArgumentError(
        absl::StrCat("--guard: ", duration, " is outside 1s..1h"));
  }
  v1::Guard guard;
  guard.set_duration(duration);
  if (!ratio.empty()) {
    auto parsed = ParseRatio(ratio);
    if (!parsed.ok()) {
      return absl::InvalidArgumentError(
          absl::StrCat("--max-error-ratio: ", parsed.status().message()));
    }
    guard.set_max_error_ratio(*parsed);
  }
  if (min_requests) guard.set_min_requests(*min_requests);
  return guard;
}

absl::Duration VerdictWaitBound(const v1::Guard& guard) {
  absl::Duration d = absl::Seconds(30);
  absl::ParseDuration(guard.duration(), &d);
  return d + std::max(absl::Seconds(10), d / 10);
}

bool IsDecided(const v1::GuardVerdict& verdict) {
  switch (verdict.outcome()) {
    case v1::GuardVerdict::KEPT:
    case v1::GuardVerdict::REVERTED:
    case v1::GuardVerdict::SUPERSEDED:
    case v1::GuardVerdict::REVERT_FAILED:
      return true;
    default:
      return false;
  }
}

namespace {

std::string Kept(const v1::GuardVerdict& v) {
  if (v.min_requests() > 0 && v.requests() < v.min_requests()) {
    return absl::StrCat("kept: too few requests to judge (", WithCommas(v.requests()), " < ",
                        WithCommas(v.min_requests()), "; ", ErrorPercent(v.error_ratio()),
                        " errors)");
  }
  std::string out = absl::StrCat("kept (", ErrorPercent(v.error_ratio()), " errors, ",
                                 WithCommas(v.requests()), " requests)");
  // Above the limit but not above the previous version's ratio: say why it stayed.
  if (v.error_ratio() > v.max_error_ratio() && v.requests() > 0) {
    absl::StrAppend(&out, ": the previous version had ", ErrorPercent(v.previous_error_ratio()));
  }
  return out;
}

}  // namespace

std::string DescribeVerdict(const v1::GuardVerdict& v) {
  const std::string head = absl::StrCat("guard ", v.duration(), ": ");
  switch (v.outcome()) {
    case v1::GuardVerdict::KEPT:
      return head + Kept(v);
    case v1::GuardVerdict::REVERTED: {
      std::string out = absl::StrCat("guard: reverted to version ", v.restored_version(),
                                     " after ", SecondsText(v.elapsed_ms()), ": ",
                                     ErrorPercent(v.error_ratio()), " errors (");
      if (!v.top_error_kind().empty()) {
        absl::StrAppend(&out, v.top_error_kind(), ": ", WithCommas(v.top_error_kind_count()),
                        " of ");
      } else {
        absl::StrAppend(&out, WithCommas(v.errors()), " of ");
      }
      absl::StrAppend(&out, WithCommas(v.requests()));
      if (!v.top_error_route().empty()) absl::StrAppend(&out, "; route ", v.top_error_route());
      return out + ")";
    }
    case v1::GuardVerdict::SUPERSEDED:
      return absl::StrCat(head, "superseded by a newer apply after ", SecondsText(v.elapsed_ms()),
                          "; this version was not judged");
    case v1::GuardVerdict::REVERT_FAILED:
      return absl::StrCat("guard: the revert FAILED, this version is still live: ", v.reason());
    case v1::GuardVerdict::PENDING:
      return head + "pending on the server (`rwctl history` shows the verdict)";
    default:
      return "guard: the server did not take the guard (it predates guarded applies)";
  }
}

int VerdictExitCode(const v1::GuardVerdict& verdict) {
  switch (verdict.outcome()) {
    case v1::GuardVerdict::KEPT:
    case v1::GuardVerdict::PENDING:
      return kExitOk;
    default:
      return kExitRejected;
  }
}

std::string VerdictJson(const v1::GuardVerdict& v) {
  auto num = [](double d) { return absl::StrFormat("%.6g", d); };
  return absl::StrCat(
      "{\"outcome\":", JsonQuote(v1::GuardVerdict::Outcome_Name(v.outcome())),
      ",\"duration\":", JsonQuote(v.duration()), ",\"max_error_ratio\":", num(v.max_error_ratio()),
      ",\"min_requests\":", v.min_requests(), ",\"requests\":", v.requests(),
      ",\"errors\":", v.errors(), ",\"error_ratio\":", num(v.error_ratio()),
      ",\"previous_requests\":", v.previous_requests(),
      ",\"previous_errors\":", v.previous_errors(),
      ",\"previous_error_ratio\":", num(v.previous_error_ratio()),
      ",\"top_error_kind\":", JsonQuote(v.top_error_kind()),
      ",\"top_error_kind_count\":", v.top_error_kind_count(),
      ",\"top_error_route\":", JsonQuote(v.top_error_route()),
      ",\"restored_version\":", v.restored_version(), ",\"revert_version\":", v.revert_version(),
      ",\"elapsed_ms\":", v.elapsed_ms(), ",\"reason\":", JsonQuote(v.reason()), "}");
}

}  // namespace rwproxy::cli
