// Output helpers for rwctl: exit codes, JSON, timestamps, gRPC status names.
//
// rwctl exit codes (also in `rwctl --help`):
//   0  success (diff: no difference; explain: a route matches)
//   1  config rejected, failed precondition (stale --expect-version), not found, or any other
//      server-side error; diff: the live config differs from the file; explain: no route matches
//   2  usage error (bad flags or arguments)
//   3  could not talk to the server: unreachable, timed out, or not authorized
//      (UNAVAILABLE, DEADLINE_EXCEEDED, UNAUTHENTICATED, PERMISSION_DENIED)
//   4  diff and explain only: any other error (unreadable or invalid YAML, an error from the
//      server), so that it is never mistaken for "differs" or "no match"
//
// Ownership: free functions over caller-owned values. Thread-safety: reentrant; any thread.
#ifndef RWPROXY_CLI_OUTPUT_H_
#define RWPROXY_CLI_OUTPUT_H_

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "google/protobuf/message.h"
#include "grpcpp/support/status.h"

namespace rwproxy::cli {

inline constexpr int kExitOk = 0;
inline constexpr int kExitRejected = 1;
inline constexpr int kExitUsage = 2;
inline constexpr int kExitUnreachable = 3;
inline constexpr int kExitError = 4;  // diff and explain: errors other than usage/unreachable

// The text of the exit-code table for --help.
extern const char kExitCodeHelp[];

// The exit code for an RPC that ended with `code`.
int ExitCodeFor(grpc::StatusCode code);

// For diff and explain, where 1 means "differs" / "no match": `exit_code` (of ExitCodeFor or a
// local failure) with kExitRejected turned into kExitError.
int ComparisonExitCode(int exit_code);

// One exit code for several targets: 1 if any target was rejected (or failed otherwise), else 3
// if any was unreachable, else 0.
int CombineExitCodes(const std::vector<int>& codes);

// "unavailable", "failed_precondition", ... for messages.
std::string StatusCodeName(grpc::StatusCode code);

// "error: unavailable: failed to connect to all addresses"
std::string DescribeError(const grpc::Status& status);

// Proto3 JSON with proto field names and every primitive field printed (so keys are stable);
// 64-bit integers are strings, as the proto3 JSON mapping says. `multiline` adds indentation.
std::string ToJson(const google::protobuf::Message& message, bool multiline = true);

// `text` as a JSON string literal with its quotes: a"b -> "a\"b".
std::string JsonQuote(std::string_view text);

// "2024-05-01T10:00:00Z" for a Unix time in milliseconds; "-" for 0.
std::string FormatUnixMs(int64_t unix_ms);

}  // namespace rwproxy::cli

#endif  // RWPROXY_CLI_OUTPUT_H_
