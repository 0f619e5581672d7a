// Config violations as absl::Status values, and their bounded form on the wire.
//
// An invalid config becomes INVALID_ARGUMENT whose message lists every violation, one per line
// ("routes[2].match.path_regex: missing )"), and whose payload carries the same list as a
// serialized rwproxy.control.v1.ValidateResponse. The gRPC layer (ToGrpcStatus in
// control/control_service.h) turns that into a short summary message plus status details
// (RejectionDetails) small enough for gRPC's trailers: see control.proto, "Errors".
//
// Ownership: free functions over values. Thread-safety: reentrant; any thread.
#ifndef RWPROXY_CONTROL_VIOLATIONS_H_
#define RWPROXY_CONTROL_VIOLATIONS_H_

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "config/spec.h"
#include "proto/control.pb.h"

namespace rwproxy::control {

// The absl::Status payload type URL of the violations list, and the type URL of the
// ValidateResponse packed into a rejection's status details (the same message).
inline constexpr char kViolationsPayloadUrl[] =
    "type.googleapis.com/rwproxy.control.v1.ValidateResponse";

// Status messages sent to clients are cut to this many bytes (at a UTF-8 boundary).
inline constexpr size_t kMaxStatusMessageBytes = 1024;
// At most this many bytes of serialized violations travel in a rejection's status details.
inline constexpr size_t kMaxDetailViolationBytes = 4096;
// Every trailer of a failed call together (grpc-status, grpc-message percent-encoded,
// grpc-status-details-bin base64-encoded, with HPACK's 32 bytes per entry) stays within this
// budget, well under gRPC's default 8 KiB metadata limit.
inline constexpr size_t kMaxTrailerBytes = 7 * 1024;
// The longest field or message of one violation in the status details (the complete text is in
// the Validate response).
inline constexpr size_t kMaxDetailViolationTextBytes = 1024;

// "field: message" (or just the message when the field is the root).
std::string FormatViolation(const FieldError& error);

// INVALID_ARGUMENT with every violation in the message and the payload. `errors` must not be
// empty.
absl::Status InvalidConfigError(const std::vector<FieldError>& errors);

// The violations carried by `status` (empty if it carries none).
v1::ValidateResponse ViolationsOf(const absl::Status& status);

// Appends `errors`; bytes that are not valid UTF-8 become '?' (proto3 strings must be UTF-8, or
// the client cannot parse the message).
void ToProto(const std::vector<FieldError>& errors, v1::ValidateResponse* out);

// `text` cut to at most `limit` bytes without splitting a UTF-8 sequence; a cut text ends in
// "..." (within the limit).
std::string Truncate(std::string_view text, size_t limit);

// One line of at most kMaxStatusMessageBytes: "config has 1 violation: F: M" or "config has 500
// violations; first: F: M". `all` must not be empty.
std::string ViolationSummary(const v1::ValidateResponse& all);

// A rejection as the serialized RpcStatus (google.rpc.Status) of grpc-status-details-bin: `code`,
// `message` and one ValidateResponse detail with the first violations of `all` that fit (each
// field and message cut to kMaxDetailViolationTextBytes), total_violations, and truncated when
// not all of them fit. Fits kMaxDetailViolationBytes, and kMaxTrailerBytes once sent with
// `message`.
std::string RejectionDetails(int code, const std::string& message, const v1::ValidateResponse& all);

// The ValidateResponse in serialized RpcStatus `details` (the error_details() of a grpc::Status);
// false when there is none.
bool ParseRejectionDetails(const std::string& details, v1::ValidateResponse* out);

// What the trailers of a failed call with this message and these details take on the wire:
// HPACK's size of each entry (name + value + 32) with grpc-message percent-encoded and
// grpc-status-details-bin base64-encoded, as gRPC sends them.
size_t TrailerWireBytes(std::string_view message, std::string_view details);

}  // namespace rwproxy::control

#endif  // RWPROXY_CONTROL_VIOLATIONS_H_
