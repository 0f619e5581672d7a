// ConfigStore's guarded applies (see config_store.h and guard.h): the guard thread, the tick that
// decides, the revert through the normal apply path, supersede, and recording verdicts in the
// version log, the state dir and the listeners.
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "config/numbers.h"
#include "control/config_store.h"
#include "server/log/log.h"

namespace rwproxy::control {
namespace {

const char* OutcomeName(v1::GuardVerdict::Outcome outcome) {
  switch (outcome) {
    case v1::GuardVerdict::KEPT:
      return "kept";
    case v1::GuardVerdict::REVERTED:
      return "reverted";
    case v1::GuardVerdict::SUPERSEDED:
      return "superseded";
    case v1::GuardVerdict::REVERT_FAILED:
      return "revert failed";
    case v1::GuardVerdict::PENDING:
      return "pending";
    default:
      return "none";
  }
}

}  // namespace

void ConfigStore::StartGuard(const v1::VersionInfo& info, const GuardSettings& settings,
                             uint64_t previous_version,
                             std::shared_ptr<const config::v1::Config> previous_config) {
  PendingGuard guard;
  guard.info = info;
  guard.version = info.version();
  guard.previous_version = previous_version;
  guard.settings = settings;
  guard.applied_ms = options_.steady_ms();
  guard.previous_config = std::move(previous_config);
  {
    std::lock_guard<std::mutex> lock(guard_mu_);
    pending_guard_ = std::move(guard);
  }
  guard_cv_.notify_all();
  log::Info("guard",
            absl::StrCat("watching version ", info.version(), " for ",
                         absl::FormatDuration(settings.duration), " (max error ratio ",
                         settings.max_error_ratio, ", min requests ", settings.min_requests,
                         "; previous version ", previous_version, ")"));
}

void ConfigStore::SupersedeGuard(uint64_t version) {
  std::optional<PendingGuard> guard;
  {
    std::lock_guard<std::mutex> lock(guard_mu_);
    if (!pending_guard_.has_value() || pending_guard_->version >= version) return;
    guard = std::move(pending_guard_);
    pending_guard_.reset();
  }
  v1::GuardVerdict verdict = PendingVerdict(guard->settings);
  SampleOf(*guard, target_->Traffic(), options_.steady_ms(), &verdict);
  verdict.set_outcome(v1::GuardVerdict::SUPERSEDED);
  verdict.set_reason(absl::StrFormat("superseded by version %d after %.1f s (%s requests)", version,
                                     static_cast<double>(verdict.elapsed_ms()) / 1000,
                                     WithCommas(verdict.requests())));
  RecordVerdict(*guard, verdict);
}

v1::GuardVerdict ConfigStore::GuardTick() {
  std::optional<PendingGuard> guard;
  {
    std::lock_guard<std::mutex> lock(guard_mu_);
    guard = pending_guard_;
  }
  if (!guard.has_value()) return {};
  // Collected without any lock held: an apply meanwhile supersedes the guard (checked below).
  const VersionTraffic traffic = target_->Traffic();
  const int64_t now_ms = options_.steady_ms();
  v1::GuardVerdict verdict = PendingVerdict(guard->settings);
  const GuardSample sample = SampleOf(*guard, traffic, now_ms, &verdict);
  const bool over =
      now_ms - guard->applied_ms >= absl::ToInt64Milliseconds(guard->settings.duration);
  GuardDecision decision = Decide(guard->settings, sample, over);
  // A worker that did not answer (perhaps wedged by this very version) is not in the counts: a
  // revert on the others' traffic stands, but "kept" waits until every worker is counted.
  if (decision == GuardDecision::kKeep && traffic.workers_unresponsive > 0) {
    decision = GuardDecision::kWatch;
  }
  if (decision == GuardDecision::kWatch) return {};

  std::lock_guard<std::mutex> apply_lock(apply_mu_);
  {
    std::lock_guard<std::mutex> lock(guard_mu_);
    if (!pending_guard_.has_value() || pending_guard_->version != guard->version) return {};
    pending_guard_.reset();
  }
  if (decision == GuardDecision::kKeep) {
    verdict.set_outcome(v1::GuardVerdict::KEPT);
    verdict.set_reason(KeepText(verdict));
  } else {
    const std::string text = RevertText(verdict, guard->version);
    ApplyOptions revert;
    revert.expected_version = guard->version;  // applies serialize: it is still live
    revert.description = text;
    revert.source = kSourceGuard;
    absl::StatusOr<ApplyResult> result = ApplyLocked(*guard->previous_config, revert);
    uint64_t live_version = 0;
    {
      std::lock_guard<std::mutex> lock(mu_);
      live_version = live_.info.version();
    }
    verdict.set_outcome(v1::GuardVerdict::REVERTED);
    verdict.set_restored_version(guard->previous_version);
    verdict.set_reason(text);
    if (live_version != guard->version) {  // live even when a worker was late (DEADLINE_EXCEEDED)
      verdict.set_revert_version(live_version);
    } else {  // not counted as reverted: the bad version is still live (rwctl rolls it back)
      verdict.set_outcome(v1::GuardVerdict::REVERT_FAILED);
      verdict.set_reason(absl::StrCat(text, "; the revert failed: ", result.status().message()));
    }
  }
  RecordVerdict(*guard, verdict);
  return verdict;
}

void ConfigStore::RecordVerdict(const PendingGuard& guard, const v1::GuardVerdict& verdict) {
  v1::VersionInfo info = guard.info;
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (const VersionLog::Entry* entry = log_.Find(guard.version)) info = entry->info;
    *info.mutable_guard() = verdict;
    log_.UpdateInfo(info);  // false when the history no longer keeps it
    if (live_.info.version() == info.version()) live_.info = info;
  }
  if (state_dir_ != nullptr) {
    absl::Status saved = state_dir_->UpdateInfo(info);
    if (!saved.ok() && !absl::IsNotFound(saved)) {
      log::Warn("guard", absl::StrCat("cannot save the verdict of version ", info.version(), ": ",
                                      saved.message()));
    }
  }
  {
    std::lock_guard<std::mutex> lock(guard_mu_);
    switch (verdict.outcome()) {
      case v1::GuardVerdict::KEPT:
        ++guard_counters_.kept;
        break;
      case v1::GuardVerdict::REVERTED:
        ++guard_counters_.reverted;
        break;
      case v1::GuardVerdict::SUPERSEDED:
        ++guard_counters_.superseded;
        break;
      case v1::GuardVerdict::REVERT_FAILED:
        ++guard_counters_.revert_failed;
        break;
      default:
        break;
    }
  }
  const std::string line = absl::StrCat("version ", info.version(), " ",
                                        OutcomeName(verdict.outcome()), ": ", verdict.reason());
  if (verdict.outcome() == v1::GuardVerdict::REVERT_FAILED) {
    log::Error("guard", line);
  } else if (verdict.outcome() == v1::GuardVerdict::REVERTED) {
    log::Warn("guard", line);
  } else {
    log::Info("guard", line);
  }
  Notify(info);
}

void ConfigStore::EndInterruptedGuard(v1::VersionInfo* info) {
  if (info->guard().outcome() != v1::GuardVerdict::PENDING) return;
  v1::GuardVerdict* verdict = info->mutable_guard();
  verdict->set_outcome(v1::GuardVerdict::SUPERSEDED);
  verdict->set_reason("interrupted by a restart: the guard does not survive one; kept unwatched");
  if (absl::Status saved = state_dir_->UpdateInfo(*info); !saved.ok()) {
    log::Warn("guard", absl::StrCat("cannot save the verdict of version ", info->version(), ": ",
                                    saved.message()));
  }
  log::Warn("guard", absl::StrCat("version ", info->version(),
                                  " was guarded when rwproxy stopped; ", verdict->reason()));
}

void ConfigStore::GuardLoop() {
  const auto tick = absl::ToChronoMilliseconds(options_.guard_tick);
  std::unique_lock<std::mutex> lock(guard_mu_);
  while (!guard_stop_) {
    if (!pending_guard_.has_value()) {
      guard_cv_.wait(lock, [&] { return guard_stop_ || pending_guard_.has_value(); });
      continue;
    }
    guard_cv_.wait_for(lock, tick, [&] { return guard_stop_; });
    if (guard_stop_) break;
    lock.unlock();
    GuardTick();
    lock.lock();
  }
}

void ConfigStore::StopGuard() {
  {
    std::lock_guard<std::mutex> lock(guard_mu_);
    guard_stop_ = true;
  }
  guard_cv_.notify_all();
  if (guard_thread_.joinable()) guard_thread_.join();
}

ConfigStore::GuardCounters ConfigStore::guard_counters() const {
  std::lock_guard<std::mutex> lock(guard_mu_);
  GuardCounters counters = guard_counters_;
  counters.pending = pending_guard_.has_value() ? 1 : 0;
  return counters;
}

void ConfigStore::AddGuardStats(StatsSnapshot* stats) const {
  const GuardCounters counters = guard_counters();
  stats->server["guard_kept_total"] = counters.kept;
  stats->server["guard_reverted_total"] = counters.reverted;
  stats->server["guard_superseded_total"] = counters.superseded;
  stats->server["guard_revert_failed_total"] = counters.revert_failed;
  stats->server["guard_pending"] = counters.pending;
}

}  // namespace rwproxy::control
