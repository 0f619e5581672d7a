// What the control plane needs from the data plane, without knowing its threads: publish a
// snapshot (returns once every worker serves it), read the live snapshot, collect counters.
// Implemented by Server (server/runtime); used by control/ (DESIGN.md: control -> server/config).
//
// Ownership: the implementation is owned by main. Thread-safety: any thread except a worker.
#ifndef RWPROXY_SERVER_CONFIG_CONFIG_TARGET_H_
#define RWPROXY_SERVER_CONFIG_CONFIG_TARGET_H_

#include <memory>

#include "server/config/snapshot.h"
#include "server/stats/counters.h"
#include "server/upstream/cluster_status.h"

namespace rwproxy {

class ConfigTarget {
 public:
  virtual ~ConfigTarget() = default;
  virtual void Publish(std::shared_ptr<const Snapshot> snapshot) = 0;
  virtual std::shared_ptr<const Snapshot> current() const = 0;
  virtual StatsSnapshot CollectStats() = 0;
  // Every cluster and endpoint with its health and connections (for GetClusters).
  virtual std::vector<ClusterStatus> Clusters() = 0;
};

}  // namespace rwproxy

#endif  // RWPROXY_SERVER_CONFIG_CONFIG_TARGET_H_
