#include "control/config_store.h"

#include <utility>

#ifdef __GLIBC__
#include <malloc.h>
#endif

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "control/config_build.h"
#include "control/violations.h"
#include "server/log/log.h"

namespace rwproxy::control {
namespace {

double Ms(absl::Duration d) { return absl::ToDoubleMilliseconds(d); }

// One info line per apply that went through (dry runs are not logged), e.g.
//   applied version 7 (hash 0123456789abcdef, source api, peer ipv4:127.0.0.1:5555,
//   description "") in 21.3 ms: compile 15.0, persist 4.1, publish 2.2
void LogApplied(const ApplyResult& result, const ApplyOptions& options) {
  std::string line = absl::StrCat(result.changed ? "applied version " : "no change, live version ",
                                  result.version, " (hash ", result.content_hash);
  if (!options.source.empty()) absl::StrAppend(&line, ", source ", options.source);
  if (!options.peer.empty()) absl::StrAppend(&line, ", peer ", options.peer);
  absl::StrAppend(&line, ", description \"", options.description, "\")");
  if (result.changed) {
    absl::StrAppend(&line, absl::StrFormat(" in %.1f ms: compile %.1f, persist %.1f, publish %.1f",
                                           Ms(result.total), Ms(result.compile),
                                           Ms(result.persist), Ms(result.publish)));
  }
  log::Info("control", line);
}

}  // namespace

std::string ContentHash(const config::v1::Config& config) {
  return HashBytes(DeterministicBytes(config));
}

ConfigStore::ConfigStore(ConfigTarget* target, Options options)
    : target_(target), options_(std::move(options)), log_(options_.history, options_.now) {
  live_.config = std::make_shared<const config::v1::Config>();
  if (!options_.state_dir.empty()) {
    state_dir_ = std::make_unique<StateDir>(options_.state_dir, options_.now);
  }
  if (options_.guard_tick > absl::ZeroDuration()) {
    guard_thread_ = std::thread([this] { GuardLoop(); });
  }
}

ConfigStore::~ConfigStore() { StopGuard(); }

absl::StatusOr<RestoreResult> ConfigStore::Restore() {
  std::lock_guard<std::mutex> apply_lock(apply_mu_);
  RestoreResult result;
  if (state_dir_ == nullptr) return result;
  auto scan = state_dir_->Open();
  if (!scan.ok()) return scan.status();
  result.notes = std::move(scan->notes);
  // A guard does not survive a restart: a version saved while its guard watched is kept, with a
  // SUPERSEDED verdict (persisted) saying so.
  for (StateDir::Stored& stored : scan->versions) EndInterruptedGuard(&stored.info);
  {
    std::lock_guard<std::mutex> lock(mu_);
    log_.RaiseHighWater(scan->high_water);
  }
  // Newest first: the first saved version that reads and compiles is served.
  std::shared_ptr<const Snapshot> snapshot;
  auto config = std::make_shared<config::v1::Config>();
  std::string bytes;
  const StateDir::Stored* chosen = nullptr;
  for (auto it = scan->versions.rbegin(); it != scan->versions.rend(); ++it) {
    const uint64_t version = it->info.version();
    absl::Status read = state_dir_->Read(version, config.get(), &bytes);
    if (!read.ok() && !absl::IsDataLoss(read)) return read;  // unreadable now: not bad content
    if (!read.ok()) {
      result.notes.push_back(std::string(read.message()));
      continue;
    }
    std::vector<FieldError> errors;
    snapshot = BuildSnapshot(*config, version, &errors);
    if (snapshot != nullptr) {
      chosen = &*it;
      break;
    }
    result.notes.push_back(absl::StrCat(
        "saved version ", version, " does not compile: ",
        errors.empty() ? "unknown error" : FormatViolation(errors.front()),
        errors.size() > 1 ? absl::StrCat(" (+", errors.size() - 1, " more)") : ""));
  }
  // Every version that reads stays in the history (a rollback can still reach it). The files of
  // versions beyond the bounds are deleted only once the restored version is written and live.
  std::vector<uint64_t> dropped;
  {
    std::lock_guard<std::mutex> lock(mu_);
    for (const StateDir::Stored& stored : scan->versions) {
      for (uint64_t v : log_.Append({stored.info, stored.bytes, nullptr})) dropped.push_back(v);
    }
  }
  if (chosen == nullptr) return result;  // nothing deleted: the caller applies --config
  // It keeps its number only if it is the highest the dir has seen (a damaged newer file counts).
  const bool newest = chosen->info.version() >= scan->high_water;
  v1::VersionInfo info = chosen->info;
  if (!newest) {  // an older version: served as a new one, so versions never go backwards
    std::lock_guard<std::mutex> lock(mu_);
    const uint64_t restored_from = info.version();
    info = log_.NextInfo(info.content_hash(),
                         absl::StrCat("restored version ", restored_from, ": ",
                                      result.notes.empty() ? "" : result.notes.back()),
                         kSourceRestore, "");
  }
  if (!newest) {
    std::vector<FieldError> errors;
    snapshot = BuildSnapshot(*config, info.version(), &errors);
    if (snapshot == nullptr) return absl::InternalError("restored version no longer compiles");
    if (auto written = state_dir_->Write(info, bytes); !written.ok()) return written;
  }
  if (auto published = target_->Publish(snapshot, options_.publish_timeout); !published.ok()) {
    log::Error("state", std::string(published.message()));
  }
  if (newest) {  // already in the log (appended above)
    std::lock_guard<std::mutex> lock(mu_);
    live_.info = info;
    live_.config = std::move(config);
    live_bytes_ = std::move(bytes);
  } else {
    Commit(info, std::move(config), std::move(bytes));
  }
  state_dir_->Remove(dropped);
  Notify(info);
  result.version = info.version();
  return result;
}
absl::StatusOr<ApplyResult> ConfigStore::Apply(const config::v1::Config& config,
                                               const ApplyOptions& options) {
  std::lock_guard<std::mutex> apply_lock(apply_mu_);
  return ApplyLocked(config, options);
}

absl::StatusOr<ApplyResult> ConfigStore::Rollback(uint64_t version, const ApplyOptions& options) {
  std::lock_guard<std::mutex> apply_lock(apply_mu_);
  std::shared_ptr<const config::v1::Config> kept;
  {
    std::lock_guard<std::mutex> lock(mu_);
    const VersionLog::Entry* entry = log_.Find(version);
    if (entry == nullptr) {
      return absl::NotFoundError(
          absl::StrCat("version ", version, " is not in the history (", log_.KeptRange(), ")"));
    }
    kept = entry->config;
  }
  config::v1::Config config;
  if (kept != nullptr) {
    config = *kept;
  } else if (absl::Status read = state_dir_->Read(version, &config, nullptr); !read.ok()) {
    return absl::DataLossError(
        absl::StrCat("cannot read version ", version, ": ", read.message()));
  }
  ApplyOptions rollback = options;
  rollback.source = kSourceRollback;
  if (rollback.description.empty()) {
    rollback.description = absl::StrCat("rollback to version ", version);
  }
  return ApplyLocked(config, rollback);
}

absl::StatusOr<ApplyResult> ConfigStore::ApplyLocked(const config::v1::Config& config,
                                                     const ApplyOptions& options) {
  const absl::Time start = absl::Now();
  uint64_t live_version = 0, version = 0;
  bool unchanged = false;
  std::string bytes = DeterministicBytes(config);
  const std::string hash = HashBytes(bytes);
  {
    std::lock_guard<std::mutex> lock(mu_);
    // What serves now: live_, not the log's newest entry (after a Restore that found nothing
    // that compiles, the log holds versions while nothing is live).
    live_version = live_.info.version();
    if (options.expected_version.has_value() && *options.expected_version != live_version) {
      return absl::FailedPreconditionError(absl::StrCat(
          "expected version ", *options.expected_version, ", live is ", live_version));
    }
    version = log_.next_version();
    unchanged = live_version != 0 && bytes == live_bytes_;
  }
  if (unchanged) {
    ApplyResult result{live_version, false, hash};
    if (!options.dry_run) LogApplied(result, options);
    return result;
  }
  std::vector<FieldError> errors;
  std::shared_ptr<const Snapshot> snapshot = BuildSnapshot(config, version, &errors);
  if (!snapshot || !errors.empty()) {
    if (errors.empty()) errors.push_back({"", "config does not compile"});
    return InvalidConfigError(errors);
  }
  ApplyResult result{version, true, hash};
  result.compile = absl::Now() - start;
  if (options.dry_run) return result;

  v1::VersionInfo info;
  std::shared_ptr<const config::v1::Config> previous_config;
  {
    std::lock_guard<std::mutex> lock(mu_);
    info = log_.NextInfo(hash, options.description, options.source, options.peer);
    previous_config = live_.config;
  }
  const bool guarded = options.guard.has_value() && live_version != 0;
  if (guarded) *info.mutable_guard() = PendingVerdict(*options.guard);
  if (state_dir_ != nullptr) {
    if (auto status = state_dir_->Write(info, bytes); !status.ok()) {
      // The file may exist (e.g. renamed, then the dir fsync failed): never let a restart serve
      // a version that was reported as not applied. New numbers never had a file before.
      state_dir_->Remove({version});
      return absl::InternalError(
          absl::StrCat("cannot persist version ", version, "; nothing changed: ", status.message()));
    }
  }
  const absl::Time persisted = absl::Now();
  result.persist = persisted - start - result.compile;
  absl::Status published = target_->Publish(snapshot, options_.publish_timeout);
  result.publish = absl::Now() - persisted;
  Commit(info, std::make_shared<const config::v1::Config>(config), std::move(bytes));
  snapshot.reset();  // the workers hold it now
  Notify(info);
  SupersedeGuard(version);  // a pending guard of an older version ends here
  if (guarded) {
    StartGuard(info, *options.guard, live_version, std::move(previous_config));
    result.guard = info.guard();
  }
  previous_config.reset();
#ifdef __GLIBC__
  // The old config and snapshot were just freed (megabytes for large configs, from several
  // threads' arenas); hand the memory back so RSS follows the live config, not the peak.
  malloc_trim(0);
#endif
  result.total = absl::Now() - start;
  LogApplied(result, options);
  if (!published.ok()) {
    return absl::DeadlineExceededError(absl::StrCat("version ", version,
                                                    " is persisted and live, but ",
                                                    published.message()));
  }
  return result;
}

void ConfigStore::Commit(const v1::VersionInfo& info,
                         std::shared_ptr<const config::v1::Config> config, std::string bytes) {
  std::vector<uint64_t> dropped;
  {
    std::lock_guard<std::mutex> lock(mu_);
    // With a state dir the history's configs live on disk only; the live one is kept here.
    dropped = log_.Append({info, bytes.size(), state_dir_ ? nullptr : config});
    live_.info = info;
    live_.config = std::move(config);
    live_bytes_ = std::move(bytes);
  }
  if (state_dir_ != nullptr) state_dir_->Remove(dropped);
}

std::vector<FieldError> ConfigStore::Validate(const config::v1::Config& config) const {
  std::vector<FieldError> errors;
  auto snapshot = BuildSnapshot(config, 0, &errors);
  if (!snapshot && errors.empty()) errors.push_back({"", "config does not compile"});
  return errors;
}

LiveConfig ConfigStore::live() const {
  std::lock_guard<std::mutex> lock(mu_);
  return live_;
}

std::vector<v1::VersionInfo> ConfigStore::History(size_t limit) const {
  std::lock_guard<std::mutex> lock(mu_);
  return log_.History(limit);
}

int ConfigStore::Subscribe(std::function<void(const v1::VersionInfo&)> listener) {
  std::lock_guard<std::mutex> lock(listeners_mu_);
  int id = next_listener_id_++;
  listeners_[id] = std::move(listener);
  return id;
}

void ConfigStore::Unsubscribe(int id) {
  std::lock_guard<std::mutex> lock(listeners_mu_);
  listeners_.erase(id);
}

void ConfigStore::Notify(const v1::VersionInfo& info) {
  // Under the lock, so that Unsubscribe() returning means the listener is no longer running.
  std::lock_guard<std::mutex> lock(listeners_mu_);
  for (const auto& [id, listener] : listeners_) listener(info);
}

void ConfigStore::SetConfigFileError(std::string error) {
  std::lock_guard<std::mutex> lock(mu_);
  config_file_error_ = std::move(error);
}

std::string ConfigStore::config_file_error() const {
  std::lock_guard<std::mutex> lock(mu_);
  return config_file_error_;
}

}  // namespace rwproxy::control
