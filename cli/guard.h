// Guarded applies on the client side: the --guard / --max-error-ratio / --min-requests flags as a
// v1::Guard, and a decided (or pending) v1::GuardVerdict as one line of text or one JSON object.
// The server decides (see proto/control.proto `message Guard`); rwctl only asks and reports.
//
// Ownership: free functions over caller-owned values. Thread-safety: reentrant; any thread.
#ifndef RWPROXY_CLI_GUARD_H_
#define RWPROXY_CLI_GUARD_H_

#include <cstdint>
#include <optional>
#include <string>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "cli/client.h"

namespace rwproxy::cli {

// A ratio written as a percentage ("1%", "0.5%") or a fraction ("0.01"); 0..1 inclusive.
absl::StatusOr<double> ParseRatio(const std::string& text);

// The Guard of `--guard DURATION [--max-error-ratio R] [--min-requests N]`. DURATION is sent as
// written once absl::ParseDuration accepts it and it is within 1s..1h; an empty ratio or an
// unset min_requests leaves the server's default (1%, 100).
absl::StatusOr<v1::Guard> MakeGuard(const std::string& duration, const std::string& ratio,
                                    std::optional<uint64_t> min_requests);

// How long rwctl waits for a verdict after the apply returned: the guard's duration plus a margin
// (a tenth of it, at least 10 s) for the server to decide and the event to arrive.
absl::Duration VerdictWaitBound(const v1::Guard& guard);

// True for KEPT, REVERTED, SUPERSEDED and REVERT_FAILED.
bool IsDecided(const v1::GuardVerdict& verdict);


// The part after "applied version N; ":
//   guard 30s: kept (0.02% errors, 12,410 requests)
//   guard 30s: kept: too few requests to judge (12 < 100; 0.00% errors)
//   guard: reverted to version 7 after 6.1 s: 38.0% errors (no route: 4,700 of 12,350; route api)
//   guard 30s: superseded by a newer apply after 3.2 s; this version was not judged
//   guard 30s: pending on the server (`rwctl history` shows the verdict)
std::string DescribeVerdict(const v1::GuardVerdict& verdict);

// The exit code of a verdict: 0 kept (or pending with --no-wait), 1 reverted or superseded.
int VerdictExitCode(const v1::GuardVerdict& verdict);

// The verdict as one JSON object with the proto's field names and plain JSON numbers:
// {"outcome":"KEPT","duration":"30s","max_error_ratio":0.01,...,"reason":""}.
std::string VerdictJson(const v1::GuardVerdict& verdict);

}  // namespace rwproxy::cli

#endif  // RWPROXY_CLI_GUARD_H_
