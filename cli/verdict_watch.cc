#include "cli/verdict_watch.h"

#include "cli/guard.h"

namespace rwproxy::cli {

void Wakeup::Notify() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    ++generation_;
  }
  cv_.notify_all();
}

uint64_t Wakeup::generation() {
  std::lock_guard<std::mutex> lock(mu_);
  return generation_;
}

void Wakeup::WaitUntil(uint64_t seen, absl::Time deadline) {
  std::unique_lock<std::mutex> lock(mu_);
  cv_.wait_until(lock, absl::ToChronoTime(deadline), [&] { return generation_ != seen; });
}

VerdictWatch::VerdictWatch(ControlClient* client, Wakeup* wakeup)
    : client_(client), wakeup_(wakeup) {}

VerdictWatch::~VerdictWatch() {
  std::unique_lock<std::mutex> lock(mu_);
  if (!started_) return;
  context_.TryCancel();
  cv_.wait(lock, [&] { return done_; });
}

void VerdictWatch::Start() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    started_ = true;
  }
  client_->StartWatch(&context_, &request_, this);
  StartRead(&event_);
  StartCall();
}

std::optional<uint64_t> VerdictWatch::WaitFirst(absl::Duration timeout) {
  std::unique_lock<std::mutex> lock(mu_);
  cv_.wait_until(lock, absl::ToChronoTime(absl::Now() + timeout),
                 [&] { return first_.has_value() || done_ || !started_; });
  return first_;
}

void VerdictWatch::OnReadDone(bool ok) {
  if (!ok) return;  // the stream ended: OnDone follows
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (!first_) first_ = event_.version().version();
    if (IsDecided(event_.version().guard())) {
      decided_[event_.version().version()] = event_.version().guard();
    }
  }
  cv_.notify_all();
  wakeup_->Notify();
  StartRead(&event_);
}

void VerdictWatch::OnDone(const grpc::Status&) {
  wakeup_->Notify();
  // The destructor may run as soon as done_ is set: touch nothing after the lock is released.
  std::lock_guard<std::mutex> lock(mu_);
  done_ = true;
  cv_.notify_all();
}

std::optional<v1::GuardVerdict> VerdictWatch::Check(uint64_t version, absl::Time now) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (auto it = decided_.find(version); it != decided_.end()) return it->second;
    // The stream will tell, once its first event confirmed that it was open before the apply.
    if (started_ && !done_ && first_) return std::nullopt;
    if (now < next_poll_) return std::nullopt;
    next_poll_ = now + absl::Seconds(1);
  }
  v1::ListVersionsResponse versions;
  if (!client_->ListVersions(0, &versions).ok()) return std::nullopt;
  for (const auto& info : versions.versions()) {
    if (info.version() == version && IsDecided(info.guard())) return info.guard();
  }
  return std::nullopt;
}

std::optional<v1::GuardVerdict> VerdictWatch::Wait(uint64_t version, absl::Time deadline) {
  Wakeup* wakeup = wakeup_;
  for (;;) {
    const uint64_t seen = wakeup->generation();
    const absl::Time now = absl::Now();
    if (auto verdict = Check(version, now)) return verdict;
    if (now >= deadline) return std::nullopt;
    bool polling;
    {
      std::lock_guard<std::mutex> lock(mu_);
      polling = !started_ || done_ || !first_;
    }
    wakeup->WaitUntil(seen, polling ? std::min(deadline, now + absl::Seconds(1)) : deadline);
  }
}

}  // namespace rwproxy::cli
