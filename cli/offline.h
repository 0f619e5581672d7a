// `rwctl validate --offline`: the checks that need no server.
//
// Runs config::Check (config/check.h), the same checks as the server except name resolution:
// names and their uniqueness, cluster references, endpoints, durations, enums, methods, header
// names, statuses, resilience settings, regex syntax, size and groups, and template group
// references.
//
// Ownership: a free function over caller-owned values. Thread-safety: reentrant; any thread.
#ifndef RWPROXY_CLI_OFFLINE_H_
#define RWPROXY_CLI_OFFLINE_H_

#include <vector>

#include "proto/config.pb.h"
#include "proto/control.pb.h"

namespace rwproxy::cli {

std::vector<control::v1::FieldViolation> ValidateOffline(const config::v1::Config& config);

}  // namespace rwproxy::cli

#endif  // RWPROXY_CLI_OFFLINE_H_
