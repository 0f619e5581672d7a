// The hostnames among one cluster's configured endpoints, as the EndpointMonitor tracks them:
// each name's last good addresses, and the names that have none yet (they did not resolve when
// the config was compiled) with their last error and a retry backoff. Builds the cluster's
// endpoint list in the configured order: IP literals as they are, each name by its addresses.
//
// Lookups: every name every dns_refresh (a failure keeps the last addresses); an unresolved name
// also 1 s after it failed, then 2 s, 4 s, ... up to dns_refresh, until it resolves. Time is
// passed in (`now`), so this needs no timers and its tests no sleeping.
//
// Ownership: one per cluster, owned by the EndpointMonitor. Thread-safety: the monitor's thread
// only (lookups run elsewhere; their answers come back through OnAnswers). The free functions
// below: any thread.
#ifndef RWPROXY_SERVER_UPSTREAM_ENDPOINT_NAMES_H_
#define RWPROXY_SERVER_UPSTREAM_ENDPOINT_NAMES_H_

#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "server/config/snapshot.h"
#include "server/upstream/resolver.h"

namespace rwproxy {

class EndpointNames {
 public:
  using Clock = std::chrono::steady_clock;
  static constexpr std::chrono::milliseconds kFirstRetry{1000};

  // Wall-clock and steady "now" together: the schedule runs on the steady clock; what is shown
  // (since, next retry) is in Unix milliseconds.
  struct Now {
    Clock::time_point steady;
    int64_t unix_ms = 0;
  };

  struct Unresolved {
    std::string error;          // the last lookup's
    int64_t since_unix_ms = 0;  // the first failed lookup
    uint64_t failures = 0;      // failed lookups so far
    std::chrono::milliseconds backoff{0};
    Clock::time_point retry_at;
    int64_t retry_unix_ms = 0;
  };

  // What a Configure or OnAnswers changed, for the log.
  struct Change {
    enum Kind {
      kUnresolved,  // a new name without an address
      kKept,        // did not resolve for a new config; its last addresses stay
      kResolved,    // an unresolved name has addresses now
    };
    Kind kind;
    std::string source;  // "app.local:8080"
    std::string detail;  // the error (kUnresolved, kKept) or the addresses (kResolved)
  };

  // A new config for the cluster. Names it shares with the previous config keep their retry
  // state, and their last addresses when the compile could not resolve them. Returns the failed
  // lookups of the compile (its `unresolved`).
  size_t Configure(const ClusterInfo& info, Now now, std::vector<Change>* changes);

  // The names to look up now (in the configured order): every name when the refresh is due
  // (*full set), else the unresolved ones whose retry is due; empty when nothing is due.
  std::vector<EndpointSpec> Due(Clock::time_point now, bool* full) const;
  // The answers to a Due() batch. Returns the failed lookups.
  size_t OnAnswers(const std::vector<EndpointSpec>& names, const std::vector<Resolution>& answers,
                   bool full, Now now, std::vector<Change>* changes);

  // Literals and every address of every resolved name, configured order, no duplicate address.
  std::vector<EndpointInfo> Endpoints() const;
  // The unresolved names in the configured order ("app.local:8080").
  std::vector<std::string> UnresolvedNames() const;
  const Unresolved* FindUnresolved(const std::string& source) const;
  // When `source` is looked up next (its retry or the next refresh, the sooner); Unix ms.
  int64_t NextLookupUnixMs(const Unresolved& name) const;
  size_t unresolved_count() const { return unresolved_.size(); }

 private:
  void Fail(Unresolved* name, const std::string& error, Now now);

  std::vector<EndpointSpec> configured_;
  std::vector<EndpointSpec> names_;  // the hostnames among them (no literal), no duplicates
  absl::flat_hash_map<std::string, std::vector<EndpointInfo>> resolved_;  // source -> addresses
  absl::flat_hash_map<std::string, Unresolved> unresolved_;               // by source
  std::chrono::milliseconds refresh_{5000};
  Clock::time_point next_refresh_;
  int64_t next_refresh_unix_ms_ = 0;
};

// Logs each change of cluster `cluster`'s names: a warning when one does not resolve, info when
// it does. `serving`: the cluster's endpoints after the change.
void LogNameChanges(const std::string& cluster, const std::vector<EndpointNames::Change>& changes,
                    size_t serving);

// "127.0.0.1:8080, 127.0.0.2:8080".
std::string JoinKeys(const std::vector<EndpointInfo>& endpoints);

}  // namespace rwproxy

#endif  // RWPROXY_SERVER_UPSTREAM_ENDPOINT_NAMES_H_
