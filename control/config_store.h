// The config store: the live config and its version, compare-and-swap on the expected version,
// idempotent apply (content identical to the live config is a no-op), a history of the last
// versions (with their content, for Rollback), persistence under --state-dir, and the
// notification of every change (for Watch).
//
// An apply validates and compiles the config, persists the new state (atomic: tmp file + fsync +
// rename + fsync of the dir), publishes the snapshot to the ConfigTarget (which returns once every
// worker serves it), then makes it the live version. Any failure before the publish changes
// nothing. Applies are serialized.
//
// Ownership: owned by main (the composition root); outlives the control service. Holds a
// non-owning pointer to the ConfigTarget, which must outlive it.
// Thread-safety: every method may be called from any thread except a data-plane worker (Apply
// and Rollback wait for the workers). Listeners run on the applying thread, after the change is
// live, and must not call Apply or Rollback.
#ifndef RWPROXY_CONTROL_CONFIG_STORE_H_
#define RWPROXY_CONTROL_CONFIG_STORE_H_

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "proto/config.pb.h"
#include "proto/control.pb.h"
#include "proto/state.pb.h"
#include "server/config/config_target.h"

namespace rwproxy::control {

// 16 hex digits: 64-bit FNV-1a of the deterministic serialization of `config`.
std::string ContentHash(const config::v1::Config& config);

// VersionInfo.source values: where a version came from.
inline constexpr char kSourceApi[] = "api";            // the Apply RPC
inline constexpr char kSourceRollback[] = "rollback";  // Rollback (set by ConfigStore::Rollback)
inline constexpr char kSourceBoot[] = "boot";          // --config at start-up
inline constexpr char kSourceFile[] = "file";          // a --watch-config reload

struct ApplyOptions {
  std::optional<uint64_t> expected_version;  // compare-and-swap when set
  bool dry_run = false;                      // validate and check expected_version only
  std::string description;
  std::string source;  // kept in history: one of the kSource* values
  std::string peer;    // kept in history: the client's address for API calls ("" otherwise)
};

struct ApplyResult {
  uint64_t version = 0;  // the new version; the live one when nothing changed
  bool changed = false;
  std::string content_hash;
};

// The live config; version 0 and an empty config before the first apply.
struct LiveConfig {
  v1::VersionInfo info;
  std::shared_ptr<const config::v1::Config> config;
};

class ConfigStore {
 public:
  static constexpr size_t kDefaultHistoryLimit = 50;
  static constexpr char kStateFileName[] = "state.json";

  struct Options {
    std::string state_dir;  // empty: keep everything in memory only
    size_t history_limit = kDefaultHistoryLimit;
    std::function<absl::Time()> now = [] { return absl::Now(); };
  };

  ConfigStore(ConfigTarget* target, Options options);
  ConfigStore(const ConfigStore&) = delete;
  ConfigStore& operator=(const ConfigStore&) = delete;

  // Loads <state_dir>/state.json and publishes its live config with its version. Returns the
  // restored version; NotFound when there is no state dir or no state file yet. When the file is
  // unreadable, corrupt or its live config no longer compiles, it is moved aside to
  // state.corrupt-<UTC time> and DataLoss is returned naming both files (the caller then falls
  // back to --config). Call once, before the first Apply.
  absl::StatusOr<uint64_t> Restore();

  // Validates, compiles, persists and publishes `config`. Errors (nothing changes):
  // FAILED_PRECONDITION for a stale expected_version, INVALID_ARGUMENT with every violation (see
  // control/violations.h), INTERNAL when the state cannot be persisted.
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

  // `listener` is called with every new live version. Returns an id for Unsubscribe.
  int Subscribe(std::function<void(const v1::VersionInfo&)> listener);
  void Unsubscribe(int id);

 private:
  absl::StatusOr<ApplyResult> ApplyLocked(const config::v1::Config& config,
                                          const ApplyOptions& options);
  absl::Status Persist(const state::v1::State& state) const;
  void Notify(const v1::VersionInfo& info);

  ConfigTarget* const target_;
  const Options options_;

  std::mutex apply_mu_;  // serializes Apply, Rollback and Restore (held across the publish)

  mutable std::mutex mu_;  // guards state_, live_ and config_file_error_
  std::string config_file_error_;
  state::v1::State state_;
  LiveConfig live_;

  std::mutex listeners_mu_;
  int next_listener_id_ = 1;
  std::map<int, std::function<void(const v1::VersionInfo&)>> listeners_;
};

}  // namespace rwproxy::control

#endif  // RWPROXY_CONTROL_CONFIG_STORE_H_
