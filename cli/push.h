// One target of `rwctl apply`: open a Watch for the guard verdict (guarded applies), record the
// live version (waves, for a rollback), apply the shared pre-serialized request, then wait for
// the verdict; and, when a wave fails, roll the target back. Also the per-target text and JSON
// of apply and rollback results.
//
// Ownership: the command owns a PushPlan (read-only while targets run) and one TargetPush per
// target; a TargetPush borrows the plan, the Globals and the Wakeup. Thread-safety: Begin runs on
// a RunPerTarget thread; afterwards Check, RollBack and the accessors run on one thread at a time
// (the command hands the TargetPush over under its own mutex).
#ifndef RWPROXY_CLI_PUSH_H_
#define RWPROXY_CLI_PUSH_H_

#include <memory>
#include <string>

#include "absl/time/time.h"
#include "cli/client.h"
#include "cli/commands.h"
#include "cli/verdict_watch.h"

namespace rwproxy::cli {

struct PushPlan {
  v1::ApplyRequest request;       // with request.guard set for a guarded apply
  grpc::ByteBuffer serialized;    // `request`, serialized once for every target
  const LocalConfig* local = nullptr;  // locates violations
  bool guarded = false;
  bool wait = true;                // wait for the verdict (not --no-wait)
  bool record_previous = false;    // remember the live version before the apply (waves)
  absl::Duration verdict_wait = absl::Seconds(40);  // after the apply returned
};

enum class PushState {
  kRunning,
  kApplied,      // changed, no guard
  kUnchanged,    // no-op (a guard is not needed)
  kDryRun,
  kPending,      // guarded, --no-wait
  kKept,
  kReverted,
  kSuperseded,
  kRevertFailed,  // the server's revert failed: the guarded version is still live
  kNoVerdict,    // no verdict within the wait bound
  kUnguarded,    // the server ignored the guard (it predates guarded applies)
  kRejected,     // INVALID_ARGUMENT
  kUnreachable,  // exit code 3
  kFailed,       // any other error
};

// "kept", "reverted", ... (JSON summary keys and text counts).
const char* PushStateName(PushState state);

class TargetPush {
 public:
  TargetPush(const Globals& globals, size_t index, const PushPlan& plan, Wakeup* wakeup);
  ~TargetPush();

  // Watch (guarded), live version (guarded or record_previous), Apply. True when the target is
  // finished; false when it waits for a verdict (call Check).
  bool Begin();
  // Waiting for the verdict: true once finished (decided, or the wait bound passed).
  bool Check(absl::Time now);
  absl::Time deadline() const { return deadline_; }

  // Waves: Rollback{version: previous, expected_version: applied} when this target changed and
  // its guard did not already revert it. False (nothing done) when there is nothing to undo.
  bool NeedsRollback() const;
  void RollBack();

  const std::string& server() const { return server_; }
  PushState state() const { return state_; }
  const TargetResult& result() const { return result_; }
  // One JSON object (no newline); `wave` > 0 adds "wave".
  std::string Json(int wave) const;
  // Rollback outcome, after RollBack.
  const TargetResult& rollback_result() const { return rollback_result_; }
  std::string RollbackJson(int wave) const;

 private:
  void Finish(PushState state);

  const PushPlan& plan_;
  std::string server_;
  std::unique_ptr<ControlClient> client_;
  Wakeup* wakeup_;
  std::unique_ptr<VerdictWatch> watch_;

  PushState state_ = PushState::kRunning;
  grpc::Status status_;
  v1::ApplyResponse response_;
  std::optional<uint64_t> previous_;  // the live version before the apply
  v1::GuardVerdict verdict_;
  absl::Time deadline_ = absl::InfiniteFuture();
  TargetResult result_;
  grpc::Status rollback_status_;
  v1::ApplyResponse rollback_response_;
  TargetResult rollback_result_;
};

// The result of an Apply or Rollback call. `file`/`map` locate violations (file may be "").
TargetResult ToResult(const grpc::Status& status, const Rejection& rejection,
                      const std::string& file, const yaml::SourceMap& map);

// One target's outcome as one JSON object:
// {"target":A,"version":N,"changed":B,"content_hash":H[,"dry_run":true]
//  [,"error":TEXT,"code":NAME[,"violations":[LINE,...]]]}
std::string TargetJson(const std::string& target, const grpc::Status& status,
                       const v1::ApplyResponse& response, const TargetResult& result,
                       bool dry_run);

}  // namespace rwproxy::cli

#endif  // RWPROXY_CLI_PUSH_H_
