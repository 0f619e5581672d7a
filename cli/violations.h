// Config violations from the control service, located in the YAML file rwctl sent.
//
// The service rejects a config with INVALID_ARGUMENT, a one-line summary as the message, and the
// violations in the status details (grpc-status-details-bin: a google.rpc.Status, our RpcStatus,
// holding a ValidateResponse), bounded to a few KiB: the first violations, their total and
// `truncated` when not all of them fit (rwctl then fetches the complete list with Validate; see
// ControlClient::Apply). Older servers put the whole list in the binary trailer
// `rwproxy-violations-bin` and one "field: message" line per violation in the message; rwctl
// still reads both. Field paths follow config/config_yaml.h, so the SourceMap of the sent file
// turns them into FILE:line:col.
//
// Ownership: free functions over caller-owned values. Thread-safety: reentrant; any thread.
#ifndef RWPROXY_CLI_VIOLATIONS_H_
#define RWPROXY_CLI_VIOLATIONS_H_

#include <string>
#include <string_view>
#include <vector>

#include "config/config_yaml.h"
#include "grpcpp/support/status.h"
#include "proto/control.pb.h"

namespace rwproxy::cli {

using control::v1::FieldViolation;

// The trailer older servers sent the violations in (a serialized ValidateResponse).
inline constexpr char kViolationsMetadataKey[] = "rwproxy-violations-bin";

// What a failed call says about the config's violations.
struct Rejection {
  std::vector<FieldViolation> violations;
  size_t total = 0;        // how many the config has (at least violations.size())
  bool truncated = false;  // violations holds only the first ones (or cut texts)
};

// Parses "field: message" lines. A line whose part before ": " is not a field path (empty, or
// containing spaces) becomes a violation with an empty field and the whole line as message.
// Blank lines are skipped.
std::vector<FieldViolation> ParseViolationMessage(std::string_view message);

// The ValidateResponse in the status details of `status` (its error_details(): a serialized
// google.rpc.Status); false when there is none.
bool ParseStatusDetails(const grpc::Status& status, control::v1::ValidateResponse* out);

// The violations of a failed call: from the status details, else from `legacy_bin` (the
// rwproxy-violations-bin trailer; may be null) if it parses and is not empty, else from the lines
// of `status`'s message. Empty for an OK status.
Rejection ExtractViolations(const grpc::Status& status, const std::string* legacy_bin);

// "routes.yaml:12:7: routes[2].match.path_regex: missing )" via the file's SourceMap.
std::string FormatViolation(std::string_view file, const yaml::SourceMap& map,
                            const FieldViolation& violation);

// "routes.yaml:3:1: field: message" for a local YAML parse error.
std::string FormatYamlError(std::string_view file, const yaml::YamlError& error);

}  // namespace rwproxy::cli

#endif  // RWPROXY_CLI_VIOLATIONS_H_
