// GET /config_dump: the config rwproxy runs, as JSON, from the live Snapshot: every field with its
// default filled in (what the compiled snapshot holds, not what the YAML said) and each
// cluster's endpoints as resolved now (DNS refresh and health, from Server::Clusters()).
//
//   {"version":3,"config":{"clusters":[{"name":"app","endpoints":["app.local:8080"],
//     "resolved_endpoints":[{"address":"10.0.0.5:8080","source":"app.local:8080",
//     "health":"healthy"}],"lb_policy":"round_robin","connect_timeout":"1s",...}],
//     "routes":[{"name":"api","match":{"path_prefix":"/api/"},"backends":[...],...}],
//     "http":{"normalize_path":true,...}}}
//
// Keys follow routes.yaml. Durations are strings ("1s", "1m30s"); an absent optional block
// (health_check, outlier_detection, retry) is null. Templates (rewrite.path,
// redirect.location) show as written.
//
// Free function; any thread (the Snapshot is immutable).
#ifndef RWPROXY_SERVER_ADMIN_CONFIG_DUMP_H_
#define RWPROXY_SERVER_ADMIN_CONFIG_DUMP_H_

#include <string>
#include <vector>

#include "server/config/snapshot.h"
#include "server/upstream/cluster_status.h"

namespace rwproxy {

// `live`: the clusters' endpoints now; a cluster missing there shows the addresses the snapshot
// resolved when it was compiled.
std::string ConfigDumpJson(const Snapshot& snapshot, const std::vector<ClusterStatus>& live);

}  // namespace rwproxy

#endif  // RWPROXY_SERVER_ADMIN_CONFIG_DUMP_H_
