// Waits for the guard verdict of one applied version on one server. The Watch stream is opened
// BEFORE the apply (Start, then WaitFirst: its first event is the live version, which is also the
// version to roll back to), so the verdict event cannot be missed; it runs on gRPC's callback API,
// so a fleet push of thousands of targets has no thread per pending verdict. When the stream ends
// (server restart, RESOURCE_EXHAUSTED, an older server) or never sent its first event (a server
// with no config yet sends none, so the apply may have raced the subscription), Check also polls
// ListVersions once a second.
//
// Ownership: the caller owns the Wakeup and the VerdictWatch; a VerdictWatch borrows its
// ControlClient and Wakeup, which must outlive it. The destructor cancels the stream and waits for
// gRPC to finish it. Thread-safety: Start/WaitFirst/Check/Wait/destructor from one owning thread
// at a time; gRPC threads call OnReadDone/OnDone; state is guarded by a mutex. Wakeup: any thread.
#ifndef RWPROXY_CLI_VERDICT_WATCH_H_
#define RWPROXY_CLI_VERDICT_WATCH_H_

#include <condition_variable>
#include <cstdint>
#include <map>
#include <mutex>
#include <optional>

#include "absl/time/time.h"
#include "cli/client.h"

namespace rwproxy::cli {

// Wakes a thread waiting for any of several watches.
class Wakeup {
 public:
  void Notify();
  // The current generation; WaitUntil returns when it differs from `seen` or at `deadline`.
  uint64_t generation();
  void WaitUntil(uint64_t seen, absl::Time deadline);

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  uint64_t generation_ = 0;
};

class VerdictWatch final : public grpc::ClientReadReactor<v1::VersionEvent> {
 public:
  // `wakeup` (not null) is notified on every event and when the stream ends.
  VerdictWatch(ControlClient* client, Wakeup* wakeup);
  ~VerdictWatch() override;
  VerdictWatch(const VerdictWatch&) = delete;
  VerdictWatch& operator=(const VerdictWatch&) = delete;

  void Start();
  // The live version (the stream's first event), or nullopt if the stream ended or `timeout`
  // passed first (then Check only polls).
  std::optional<uint64_t> WaitFirst(absl::Duration timeout);
  // The decided verdict of `version`, from the stream or (once it ended, at most once a second)
  // from ListVersions; nullopt while undecided.
  std::optional<v1::GuardVerdict> Check(uint64_t version, absl::Time now);
  // Check until decided or `deadline`.
  std::optional<v1::GuardVerdict> Wait(uint64_t version, absl::Time deadline);

  void OnReadDone(bool ok) override;
  void OnDone(const grpc::Status& status) override;

 private:
  ControlClient* client_;
  Wakeup* wakeup_;
  grpc::ClientContext context_;
  v1::WatchRequest request_;
  v1::VersionEvent event_;  // written by gRPC between StartRead and OnReadDone

  std::mutex mu_;
  std::condition_variable cv_;
  bool started_ = false;
  bool done_ = false;
  std::optional<uint64_t> first_;
  std::map<uint64_t, v1::GuardVerdict> decided_;  // version -> verdict
  absl::Time next_poll_ = absl::InfinitePast();
};

}  // namespace rwproxy::cli

#endif  // RWPROXY_CLI_VERDICT_WATCH_H_
