#include "control/config_store.h"

#include <filesystem>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "control/config_build.h"
#include "control/state_file.h"
#include "control/violations.h"
#include "google/protobuf/io/coded_stream.h"
#include "google/protobuf/io/zero_copy_stream_impl_lite.h"
#include "google/protobuf/util/message_differencer.h"
#include "server/log/log.h"

namespace rwproxy::control {
namespace {

std::string DeterministicBytes(const config::v1::Config& config) {
  std::string out;
  {
    google::protobuf::io::StringOutputStream stream(&out);
    google::protobuf::io::CodedOutputStream coded(&stream);
    coded.SetSerializationDeterministic(true);
    config.SerializeToCodedStream(&coded);
  }
  return out;
}

// One info line per apply that went through (dry runs are not logged), e.g.
//   applied version 7 (hash 0123456789abcdef, source api, peer ipv4:127.0.0.1:5555, description "")
void LogApplied(bool changed, uint64_t version, const std::string& hash,
                const ApplyOptions& options) {
  std::string line = absl::StrCat(changed ? "applied version " : "no change, live version ",
                                  version, " (hash ", hash);
  if (!options.source.empty()) absl::StrAppend(&line, ", source ", options.source);
  if (!options.peer.empty()) absl::StrAppend(&line, ", peer ", options.peer);
  absl::StrAppend(&line, ", description \"", options.description, "\")");
  log::Info("control", line);
}

}  // namespace

std::string ContentHash(const config::v1::Config& config) {
  uint64_t hash = 14695981039346656037ull;  // FNV-1a 64 offset basis
  for (unsigned char c : DeterministicBytes(config)) {
    hash ^= c;
    hash *= 1099511628211ull;  // FNV-1a 64 prime
  }
  return absl::StrFormat("%016x", hash);
}

ConfigStore::ConfigStore(ConfigTarget* target, Options options)
    : target_(target), options_(std::move(options)) {
  live_.config = std::make_shared<const config::v1::Config>();
}

absl::StatusOr<uint64_t> ConfigStore::Restore() {
  std::lock_guard<std::mutex> apply_lock(apply_mu_);
  if (options_.state_dir.empty()) return absl::NotFoundError("no --state-dir");
  std::error_code ec;
  std::filesystem::create_directories(options_.state_dir, ec);
  if (ec) {
    return absl::FailedPreconditionError(
        absl::StrCat("cannot create state dir ", options_.state_dir, ": ", ec.message()));
  }
  const std::string path = absl::StrCat(options_.state_dir, "/", kStateFileName);
  auto text = ReadWholeFile(path);
  if (absl::IsNotFound(text.status())) return text.status();

  state::v1::State state;
  absl::Status problem = text.status();
  if (problem.ok()) problem = StateFromJson(*text, &state);
  std::shared_ptr<const Snapshot> snapshot;
  if (problem.ok()) {
    const auto& live = state.history(state.history_size() - 1);
    std::vector<FieldError> errors;
    snapshot = BuildSnapshot(live.config(), live.info().version(), &errors);
    if (!snapshot) {
      problem = absl::DataLossError(
          absl::StrCat("live version ", live.info().version(), " does not compile any more: ",
                       errors.empty() ? "unknown error" : FormatViolation(errors.front())));
    }
  }
  if (!problem.ok()) {
    auto aside = MoveAside(path, "state", options_.now());
    if (!aside.ok()) {
      return absl::InternalError(absl::StrCat(
          path, ": ", problem.message(), "; cannot move it aside: ", aside.status().message()));
    }
    return absl::DataLossError(
        absl::StrCat(path, ": ", problem.message(), "; kept it as ", *aside));
  }

  const int excess = state.history_size() - static_cast<int>(options_.history_limit);
  if (excess > 0) state.mutable_history()->DeleteSubrange(0, excess);
  target_->Publish(snapshot);
  const auto& live = state.history(state.history_size() - 1);
  v1::VersionInfo info = live.info();
  {
    std::lock_guard<std::mutex> lock(mu_);
    live_.info = info;
    live_.config = std::make_shared<const config::v1::Config>(live.config());
    state_ = std::move(state);
  }
  Notify(info);
  return info.version();
}

absl::StatusOr<ApplyResult> ConfigStore::Apply(const config::v1::Config& config,
                                               const ApplyOptions& options) {
  std::lock_guard<std::mutex> apply_lock(apply_mu_);
  return ApplyLocked(config, options);
}

absl::StatusOr<ApplyResult> ConfigStore::Rollback(uint64_t version, const ApplyOptions& options) {
  std::lock_guard<std::mutex> apply_lock(apply_mu_);
  config::v1::Config config;
  bool found = false;
  uint64_t oldest = 0, newest = 0;
  {
    std::lock_guard<std::mutex> lock(mu_);
    for (const auto& entry : state_.history()) {
      if (oldest == 0) oldest = entry.info().version();
      newest = entry.info().version();
      if (entry.info().version() == version) {
        config = entry.config();
        found = true;
      }
    }
  }
  if (!found) {
    return absl::NotFoundError(
        oldest == 0 ? absl::StrCat("version ", version, " is not in the history (it is empty)")
                    : absl::StrCat("version ", version, " is not in the history (kept: ", oldest,
                                   "..", newest, ")"));
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
  const LiveConfig current = live();
  const uint64_t live_version = current.info.version();
  if (options.expected_version.has_value() && *options.expected_version != live_version) {
    return absl::FailedPreconditionError(
        absl::StrCat("expected version ", *options.expected_version, ", live is ", live_version));
  }
  const std::string hash = ContentHash(config);
  if (live_version != 0 && hash == current.info.content_hash() &&
      google::protobuf::util::MessageDifferencer::Equals(*current.config, config)) {
    if (!options.dry_run) LogApplied(false, live_version, hash, options);
    return ApplyResult{live_version, false, hash};
  }
  const uint64_t version = live_version + 1;
  std::vector<FieldError> errors;
  std::shared_ptr<const Snapshot> snapshot = BuildSnapshot(config, version, &errors);
  if (!snapshot || !errors.empty()) {
    if (errors.empty()) errors.push_back({"", "config does not compile"});
    return InvalidConfigError(errors);
  }
  if (options.dry_run) return ApplyResult{version, true, hash};

  state::v1::StoredVersion entry;
  v1::VersionInfo* info = entry.mutable_info();
  info->set_version(version);
  info->set_applied_unix_ms(absl::ToUnixMillis(options_.now()));
  info->set_content_hash(hash);
  info->set_description(options.description);
  info->set_source(options.source);
  info->set_peer(options.peer);
  *entry.mutable_config() = config;
  const v1::VersionInfo new_info = entry.info();
  const int keep = static_cast<int>(std::max<size_t>(1, options_.history_limit));
  auto append = [&](state::v1::State* state, state::v1::StoredVersion e) {
    state->set_format(1);
    state->set_live_version(version);
    *state->add_history() = std::move(e);
    const int excess = state->history_size() - keep;
    if (excess > 0) state->mutable_history()->DeleteSubrange(0, excess);
  };
  if (!options_.state_dir.empty()) {
    // The file holds the whole history, so persisting needs the next state in full; without a
    // state dir the history is updated in place below, never copied (it holds 50 configs).
    state::v1::State next;
    {
      std::lock_guard<std::mutex> lock(mu_);
      next = state_;
    }
    append(&next, entry);
    if (auto status = Persist(next); !status.ok()) {
      return absl::InternalError(
          absl::StrCat("cannot persist the state; nothing changed: ", status.message()));
    }
  }
  target_->Publish(std::move(snapshot));
  {
    std::lock_guard<std::mutex> lock(mu_);
    live_.info = new_info;
    live_.config = std::make_shared<const config::v1::Config>(config);
    append(&state_, std::move(entry));
  }
  Notify(new_info);
  LogApplied(true, version, hash, options);
  return ApplyResult{version, true, hash};
}

std::vector<FieldError> ConfigStore::Validate(const config::v1::Config& config) const {
  std::vector<FieldError> errors;
  auto snapshot = BuildSnapshot(config, 0, &errors);
  if (!snapshot && errors.empty()) errors.push_back({"", "config does not compile"});
  return errors;
}

absl::Status ConfigStore::Persist(const state::v1::State& state) const {
  if (options_.state_dir.empty()) return absl::OkStatus();
  return WriteFileAtomically(absl::StrCat(options_.state_dir, "/", kStateFileName),
                             StateToJson(state));
}

LiveConfig ConfigStore::live() const {
  std::lock_guard<std::mutex> lock(mu_);
  return live_;
}

std::vector<v1::VersionInfo> ConfigStore::History(size_t limit) const {
  std::lock_guard<std::mutex> lock(mu_);
  std::vector<v1::VersionInfo> out;
  for (int i = state_.history_size() - 1; i >= 0; --i) {
    if (limit != 0 && out.size() >= limit) break;
    out.push_back(state_.history(i).info());
  }
  return out;
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
