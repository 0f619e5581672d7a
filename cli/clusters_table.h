// rwctl's human views of GetClusters and of Explain's weighted backends. The table has the
// columns and layout of the admin listener's `GET /clusters?format=text`
// (server/upstream/cluster_status.cc), which rwctl cannot link: a line per cluster (with a PANIC
// marker when no endpoint is available, and the count of names that do not resolve yet), then one
// aligned line per endpoint, then one per unresolved name (its error and next lookup).
//
// Ownership: free functions over caller-owned values. Thread-safety: reentrant; any thread.
#ifndef RWPROXY_CLI_CLUSTERS_TABLE_H_
#define RWPROXY_CLI_CLUSTERS_TABLE_H_

#include <string>

#include "proto/control.pb.h"

namespace rwproxy::cli {

// CLUSTER ADDRESS HEALTH SINCE ACTIVE/IDLE/PENDING RQ_TOTAL RQ_5XX REASON, one line each.
std::string ClustersTable(const ::rwproxy::control::v1::GetClustersResponse& response);

// "90%", "33.3%", "<0.1%": a probability (0..1) as a percentage with at most one decimal.
std::string FormatPercent(double probability);

// "backend app 90% (round_robin over 10.0.0.1:80, 10.0.0.2:80)"
std::string BackendLine(const ::rwproxy::control::v1::ExplainBackend& backend);

}  // namespace rwproxy::cli

#endif  // RWPROXY_CLI_CLUSTERS_TABLE_H_
