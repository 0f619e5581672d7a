// What the control plane needs from the data plane, without knowing its threads: publish a
// snapshot (returns once every worker serves it, or reports the workers that did not within a
// deadline), read the live snapshot, collect counters and the per-version traffic.
// Implemented by Server (server/runtime); used by control/ (DESIGN.md: control -> server/config).
//
// Ownership: the implementation is owned by main. Thread-safety: any thread except a worker.
#ifndef RWPROXY_SERVER_CONFIG_CONFIG_TARGET_H_
#define RWPROXY_SERVER_CONFIG_CONFIG_TARGET_H_

#include <memory>

#include "absl/status/status.h"
#include "absl/time/time.h"

#include "server/config/snapshot.h"
#include "server/stats/counters.h"
#include "server/stats/traffic.h"
#include "server/upstream/cluster_status.h"

namespace rwproxy {

class ConfigTarget {
 public:
  virtual ~ConfigTarget() = default;
  // Hands `snapshot` to every worker and waits up to `timeout` for all of them to serve it. It is
  // the current snapshot either way (workers that were late pick it up when they run again);
  // DEADLINE_EXCEEDED names the workers that did not confirm in time.
  virtual absl::Status Publish(std::shared_ptr<const Snapshot> snapshot,
                               absl::Duration timeout) = 0;
  virtual std::shared_ptr<const Snapshot> current() const = 0;
  virtual StatsSnapshot CollectStats() = 0;
  // Every cluster and endpoint with its health and connections (for GetClusters).
  virtual std::vector<ClusterStatus> Clusters() = 0;
  // Requests and errors per config version and second, summed over workers (for guarded
  // applies, control/guard.h). Waits up to 2 s; a worker that does not answer is left out and
  // counted in workers_unresponsive.
  virtual VersionTraffic Traffic() = 0;
};

}  // namespace rwproxy

#endif  // RWPROXY_SERVER_CONFIG_CONFIG_TARGET_H_
