// Config violations as absl::Status values: an invalid config becomes INVALID_ARGUMENT whose
// message lists every violation, one per line ("routes[2].match.path_regex: missing )"), and whose
// payload carries the same list as a serialized rwproxy.control.v1.ValidateResponse, so the gRPC
// layer can hand it to clients machine-readably (see control.proto, "rwproxy-violations-bin").
//
// Ownership: free functions over values. Thread-safety: reentrant; any thread.
#ifndef RWPROXY_CONTROL_VIOLATIONS_H_
#define RWPROXY_CONTROL_VIOLATIONS_H_

#include <string>
#include <vector>

#include "absl/status/status.h"
#include "proto/control.pb.h"
#include "config/spec.h"

namespace rwproxy::control {

// The absl::Status payload type URL of the violations list.
inline constexpr char kViolationsPayloadUrl[] =
    "type.googleapis.com/rwproxy.control.v1.ValidateResponse";

// "field: message" (or just the message when the field is the root).
std::string FormatViolation(const FieldError& error);

// INVALID_ARGUMENT with every violation in the message and the payload. `errors` must not be
// empty.
absl::Status InvalidConfigError(const std::vector<FieldError>& errors);

// The violations carried by `status` (empty if it carries none).
v1::ValidateResponse ViolationsOf(const absl::Status& status);

void ToProto(const std::vector<FieldError>& errors, v1::ValidateResponse* out);

}  // namespace rwproxy::control

#endif  // RWPROXY_CONTROL_VIOLATIONS_H_
