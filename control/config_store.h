// The config store: applies configs as numbered versions. It composes three parts:
//   - the version log (control/version_log.h): bounded history and a high-water mark so versions
//     never go backwards (the store keeps what is live and checks expected versions against it);
//   - persistence (control/state_dir.h): one durable file per version under --state-dir;
//   - publishing: the ConfigTarget (the data plane), with a deadline.
// An apply checks the expected version, returns at once when the content equals the live config,
// validates and compiles, writes the version file (durable before it is acknowledged), publishes
// the snapshot to every worker (with a deadline: a worker that does not confirm is reported, not
// waited for forever), then makes it the live version and notifies listeners. Any failure before
// the publish changes nothing. Applies are serialized.
//
// Guarded applies (control/guard.h): an apply with a guard that changed the config makes the new
// version's VersionInfo.guard PENDING and starts watching its traffic on the store's guard thread
// (one thread, ticking every Options::guard_tick; never a gRPC thread, never a worker). One guard
// is pending at a time: any later apply that changes the config ends it (SUPERSEDED). The verdict
// (KEPT, REVERTED, SUPERSEDED) is written into the guarded version's VersionInfo in the log and
// its version file, and notified to listeners (a second notification for that version). A revert
// re-applies the previous content through the normal apply path as a new version (source
// kSourceGuard). A guard does not survive a restart: Restore records a version still PENDING as
// SUPERSEDED ("interrupted by a restart").
//
// Ownership: owned by main (the composition root); outlives the control service. Holds a
// non-owning pointer to the ConfigTarget, which must outlive it.
// Thread-safety: every method may be called from any thread except a data-plane worker (Apply
// and Rollback wait for the workers). Listeners run on the applying thread (the guard thread for
// verdicts and reverts), after the change is live, and must not call Apply or Rollback.
#ifndef RWPROXY_CONTROL_CONFIG_STORE_H_
#define RWPROXY_CONTROL_CONFIG_STORE_H_

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "proto/config.pb.h"
#include "proto/control.pb.h"
#include "control/guard.h"
#include "control/state_dir.h"
#include "control/version_log.h"
#include "server/config/config_target.h"

namespace rwproxy::control {

// 16 hex digits: 64-bit FNV-1a of the deterministic serialization of `config`.
std::string ContentHash(const config::v1::Config& config);

// VersionInfo.source values: where a version came from.
inline constexpr char kSourceApi[] = "api";            // the Apply RPC
inline constexpr char kSourceRollback[] = "rollback";  // Rollback (set by ConfigStore::Rollback)
inline constexpr char kSourceBoot[] = "boot";          // --config at start-up
inline constexpr char kSourceFile[] = "file";          // a --watch-config reload
inline constexpr char kSourceRestore[] = "restore";    // an older saved version restored at boot
inline constexpr char kSourceGuard[] = "guard";        // a guarded apply reverted by its guard

struct ApplyOptions {
  std::optional<uint64_t> expected_version;  // compare-and-swap when set
  bool dry_run = false;                      // validate and check expected_version only
  std::string description;
  std::string source;  // kept in history: one of the kSource* values
  std::string peer;    // kept in history: the client's address for API calls ("" otherwise)
  // Watch the new version and revert it by itself (control/guard.h); ignored for a dry run, a
  // no-op apply and the very first version (nothing to revert to).
  std::optional<GuardSettings> guard;
};

struct ApplyResult {
  uint64_t version = 0;  // the new version; the live one when nothing changed
  bool changed = false;
  std::string content_hash;
  // PENDING (with the settings) when a guard watches the new version; else outcome NONE.
  v1::GuardVerdict guard;
  // Where the time went (server side): validate + compile, write the version file, publish.
  absl::Duration compile, persist, publish, total;
};

// What Restore found.
struct RestoreResult {
  uint64_t version = 0;  // the restored live version; 0 when nothing could be restored
  std::vector<std::string> notes;  // files migrated or set aside, versions that did not compile
};

// The live config; version 0 and an empty config before the first apply.
struct LiveConfig {
  v1::VersionInfo info;
  std::shared_ptr<const config::v1::Config> config;
};

class ConfigStore {
 public:
  struct Options {
    std::string state_dir;  // empty: keep everything in memory only
    VersionLog::Limits history;
    // How long an apply waits for every worker to confirm the new snapshot.
    absl::Duration publish_timeout = absl::Seconds(10);
    std::function<absl::Time()> now = [] { return absl::Now(); };
    // The steady clock in ms since its epoch: the clock of the data plane's traffic buckets.
    std::function<int64_t()> steady_ms = [] {
      return std::chrono::duration_cast<std::chrono::milliseconds>(
                 std::chrono::steady_clock::now().time_since_epoch())
          .count();
    };
    // How often the guard thread looks at a pending guard's traffic. Zero: no thread (tests call
    // GuardTick themselves).
    absl::Duration guard_tick = absl::Milliseconds(200);
  };
  // Verdicts so far (guard_*_total in /stats and GetStats) and whether a guard is pending.
  struct GuardCounters {
    uint64_t kept = 0, reverted = 0, superseded = 0, revert_failed = 0, pending = 0;
  };

  ConfigStore(ConfigTarget* target, Options options);
  ~ConfigStore();
  ConfigStore(const ConfigStore&) = delete;
  ConfigStore& operator=(const ConfigStore&) = delete;

  // Opens the state dir and publishes the newest saved version that compiles. The newest one
  // keeps its version; when only an older one compiles, its content becomes a new version
  // (source kSourceRestore, the reason in its description). Files that cannot be parsed are set
  // aside; nothing that parses is ever deleted. Returns version 0 when there is no state dir, no
  // saved version, or none compiles (the caller then applies --config, whose version is above
  // every version the dir has seen). An error only when the dir cannot be used at all. Call once,
  // before the first Apply.
  absl::StatusOr<RestoreResult> Restore();

  // Validates, compiles, persists and publishes `config`. Errors (nothing changes):
  // FAILED_PRECONDITION for a stale expected_version, INVALID_ARGUMENT with every violation (see
  // control/violations.h), INTERNAL when the version cannot be persisted. DEADLINE_EXCEEDED when
  // a worker did not confirm in time: the version is then persisted and live (the other workers
  // serve it), and the message says so.
  absl::StatusOr<ApplyResult> Apply(const config::v1::Config& config, const ApplyOptions& options);

  // Re-applies the content of history `version` as a new version (no-op if identical to the live
  // config), recorded with source kSourceRollback and options.peer. NOT_FOUND when the version
  // is not in the history.
  absl::StatusOr<ApplyResult> Rollback(uint64_t version, const ApplyOptions& options);

  // The same checks as Apply; changes nothing. Empty when the config is valid.
  std::vector<FieldError> Validate(const config::v1::Config& config) const;

  LiveConfig live() const;
  // The last failure of the watched config file (--watch-config), "" once a load succeeds.
  void SetConfigFileError(std::string error);
  std::string config_file_error() const;
  // Newest first; `limit` 0 means all that are kept.
  std::vector<v1::VersionInfo> History(size_t limit) const;

  // Looks at the pending guard once (the guard thread calls it every Options::guard_tick):
  // collects the traffic, decides, and reverts or records the verdict. Returns the verdict when
  // one was decided by this call (outcome NONE otherwise).
  v1::GuardVerdict GuardTick();
  // Stops the guard thread (a pending guard stays PENDING; main calls it before the workers
  // stop). Idempotent; the destructor calls it.
  void StopGuard();
  GuardCounters guard_counters() const;
  // Adds guard_kept_total, guard_reverted_total, guard_superseded_total and guard_pending to
  // `stats->server`.
  void AddGuardStats(StatsSnapshot* stats) const;

  // `listener` is called with every new live version, and once more with a guarded version's
  // info when its verdict is decided. Returns an id for Unsubscribe.
  int Subscribe(std::function<void(const v1::VersionInfo&)> listener);
  void Unsubscribe(int id);

 private:
  absl::StatusOr<ApplyResult> ApplyLocked(const config::v1::Config& config,
                                          const ApplyOptions& options);
  // Makes `info` (with `config`, serialized as `bytes`) the live version in the log.
  void Commit(const v1::VersionInfo& info, std::shared_ptr<const config::v1::Config> config,
              std::string bytes);
  void Notify(const v1::VersionInfo& info);
  // Guards (config_store_guard.cc). Under apply_mu_: start watching `info` (just applied), end
  // the pending guard because `version` superseded it, record a verdict for `version`.
  void StartGuard(const v1::VersionInfo& info, const GuardSettings& settings,
                  uint64_t previous_version,
                  std::shared_ptr<const config::v1::Config> previous_config);
  void SupersedeGuard(uint64_t version);
  void RecordVerdict(const PendingGuard& guard, const v1::GuardVerdict& verdict);
  // Restore: a version saved while its guard was pending gets a SUPERSEDED verdict.
  void EndInterruptedGuard(v1::VersionInfo* info);
  void GuardLoop();

  ConfigTarget* const target_;
  const Options options_;
  std::unique_ptr<StateDir> state_dir_;  // null without --state-dir

  std::mutex apply_mu_;  // serializes Apply, Rollback and Restore (held across the publish)

  mutable std::mutex mu_;  // guards log_, live_, live_bytes_ and config_file_error_
  VersionLog log_;
  LiveConfig live_;
  std::string live_bytes_;  // live_.config's deterministic serialization (idempotent applies)
  std::string config_file_error_;

  std::mutex listeners_mu_;
  int next_listener_id_ = 1;
  std::map<int, std::function<void(const v1::VersionInfo&)>> listeners_;

  // The pending guard. Changed under apply_mu_ and guard_mu_; the guard thread reads it under
  // guard_mu_ only (so collecting traffic never holds up an apply).
  mutable std::mutex guard_mu_;
  std::optional<PendingGuard> pending_guard_;
  GuardCounters guard_counters_;
  bool guard_stop_ = false;
  std::condition_variable guard_cv_;
  std::thread guard_thread_;  // last: started in the constructor, stopped by StopGuard
};

}  // namespace rwproxy::control

#endif  // RWPROXY_CONTROL_CONFIG_STORE_H_
