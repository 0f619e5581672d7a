// `rwctl validate --offline`: the checks that need no server.
//
// Covered: everything control/translate.h checks (names and their uniqueness, cluster
// references, endpoints, durations, lb_policy, methods, header names, redirect/respond statuses,
// rewrite rules) and RE2 syntax of every match.path_regex. Not covered (the server checks them
// when it compiles a snapshot): RE2 program-size limits, rewrite/redirect templates that name a
// capture group the regex does not have, and resolving endpoint host names.
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
