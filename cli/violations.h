// Config violations from the control service, located in the YAML file rwctl sent.
//
// The service reports INVALID_ARGUMENT with one "field: message" line per violation in the status
// message, and may also attach the same list as a serialized rwproxy.control.v1.ValidateResponse
// in the binary trailing metadata entry `rwproxy-violations-bin`. rwctl prefers the metadata and
// falls back to the message lines. Field paths follow config/config_yaml.h, so the SourceMap of
// the sent file turns them into FILE:line:col.
//
// Ownership: free functions over caller-owned values. Thread-safety: reentrant; any thread.
#ifndef RWPROXY_CLI_VIOLATIONS_H_
#define RWPROXY_CLI_VIOLATIONS_H_

#include <string>
#include <string_view>
#include <vector>

#include "grpcpp/support/status.h"
#include "config/config_yaml.h"
#include "proto/control.pb.h"

namespace rwproxy::cli {

using control::v1::FieldViolation;

inline constexpr char kViolationsMetadataKey[] = "rwproxy-violations-bin";

// Parses "field: message" lines. A line whose part before ": " is not a field path (empty, or
// containing spaces) becomes a violation with an empty field and the whole line as message.
// Blank lines are skipped.
std::vector<FieldViolation> ParseViolationMessage(std::string_view message);

// The violations of a failed call: from `metadata_bin` (a serialized ValidateResponse; may be
// null) if it parses and is not empty, else from the lines of `status`'s message. Empty for an OK
// status.
std::vector<FieldViolation> ExtractViolations(const grpc::Status& status,
                                              const std::string* metadata_bin);

// "routes.yaml:12:7: routes[2].match.path_regex: missing )" via the file's SourceMap.
std::string FormatViolation(std::string_view file, const yaml::SourceMap& map,
                            const FieldViolation& violation);

// "routes.yaml:3:1: field: message" for a local YAML parse error.
std::string FormatYamlError(std::string_view file, const yaml::YamlError& error);

}  // namespace rwproxy::cli

#endif  // RWPROXY_CLI_VIOLATIONS_H_
