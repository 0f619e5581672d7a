// Control-plane views of the data plane as control.proto messages: Explain (which route a request
// would take on a snapshot, and why earlier routes did not match; no request is sent), GetStats
// (the admin counters, structured) and GetClusters (endpoint health and connections).
//
// Ownership: free functions over caller-owned values. Thread-safety: reentrant; any thread (the
// snapshot is immutable).
#ifndef RWPROXY_CONTROL_EXPLAIN_H_
#define RWPROXY_CONTROL_EXPLAIN_H_

#include <string>
#include <vector>

#include "absl/status/status.h"
#include "proto/control.pb.h"
#include "server/config/snapshot.h"
#include "server/http/codec.h"
#include "server/stats/counters.h"
#include "server/upstream/cluster_status.h"

namespace rwproxy::control {

// Explain's input limits (see ExplainRequest in control.proto). A request the data plane would
// refuse (its head is at most kMaxHeadSize, with kMaxRequestFields fields) is not explained.
inline constexpr size_t kMaxExplainMethodBytes = 256;
inline constexpr size_t kMaxExplainPathBytes = kMaxHeadSize;
inline constexpr size_t kMaxExplainHeaders = kMaxRequestFields;
inline constexpr size_t kMaxExplainHeaderNameBytes = kMaxHeadSize;
inline constexpr size_t kMaxExplainHeaderValueBytes = kMaxHeadSize;

// INVALID_ARGUMENT naming the field and the limit when `request` is over a limit above
// ("headers.x-big: value of 70000 bytes, limit 65536"); OK otherwise.
absl::Status CheckExplainRequest(const v1::ExplainRequest& request);

// Routes `request` on `snapshot` the way a worker would. An empty method means GET, an empty path
// "/". Call CheckExplainRequest first.
v1::ExplainResponse Explain(const Snapshot& snapshot, const v1::ExplainRequest& request);

// "round_robin", "least_request" or "random".
std::string LbPolicyName(LbPolicy policy);

void StatsToProto(const StatsSnapshot& stats, v1::GetStatsResponse* out);

// Appends every cluster, in the given order.
void ClustersToProto(const std::vector<ClusterStatus>& clusters, v1::GetClustersResponse* out);

}  // namespace rwproxy::control

#endif  // RWPROXY_CONTROL_EXPLAIN_H_
