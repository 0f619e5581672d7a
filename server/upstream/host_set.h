// The live endpoints of each cluster as the proxy-wide EndpointMonitor sees them: every address
// (after DNS refresh), the configured names that have none yet, and which endpoints may take new
// requests (not failing active health checks, not ejected by outlier detection). Computed once
// per proxy and posted to every worker as an immutable HostMap, like a config snapshot
// (DESIGN.md §1: no lock on the request path).
//
// Ownership: built by the EndpointMonitor on its thread, then shared (shared_ptr<const>) by the
// workers. Thread-safety: immutable; any thread.
#ifndef RWPROXY_SERVER_UPSTREAM_HOST_SET_H_
#define RWPROXY_SERVER_UPSTREAM_HOST_SET_H_

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "server/config/snapshot.h"

namespace rwproxy {

struct HostSet {
  std::vector<EndpointInfo> endpoints;  // all of them, in a stable order
  std::vector<uint32_t> available;      // indexes into endpoints: healthy and not ejected
  // Configured names with no address yet ("app.local:8080"), retried in the background; they
  // join `endpoints` when they resolve.
  std::vector<std::string> unresolved;
  // No endpoint is available: traffic goes to all of them rather than to none (panic mode).
  bool panic() const { return available.empty() && !endpoints.empty(); }
};

struct HostMap {
  uint64_t generation = 0;  // increases with every map the monitor builds
  absl::flat_hash_map<std::string, std::shared_ptr<const HostSet>> clusters;  // by cluster name
};

}  // namespace rwproxy

#endif  // RWPROXY_SERVER_UPSTREAM_HOST_SET_H_
