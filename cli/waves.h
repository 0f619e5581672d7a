// Fleet pushes of `rwctl apply`: every target at once (results in the order given, as before),
// or in waves (`--waves 1,10%,50%,100%`): a wave starts only when every target of the previous one
// is finished and good (kept with --guard; applied or unchanged without); a failed wave stops the
// push and rolls back the targets already changed (unless --no-rollback). Wave lines are printed
// as targets finish.
//
// Ownership: free functions; the plan and globals are the caller's. Thread-safety: call from the
// main thread; they start RunPerTarget threads and wait for them.
#ifndef RWPROXY_CLI_WAVES_H_
#define RWPROXY_CLI_WAVES_H_

#include <cstddef>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "cli/commands.h"
#include "cli/push.h"

namespace rwproxy::cli {

// "1,10%,50%,100%" over `targets` targets: the cumulative end of each wave (counts, or
// percentages of `targets` rounded up; counts above `targets` mean all). Waves that add no target
// are dropped. Errors: an empty spec or item, a size of 0, a percentage outside (0, 100], a size
// smaller than the one before, a last wave that does not reach every target.
absl::StatusOr<std::vector<size_t>> ParseWaves(const std::string& spec, size_t targets);

struct WaveOptions {
  std::vector<size_t> ends;    // ParseWaves
  std::string spec;            // as given, for the summary
  size_t max_unavailable = 0;  // unreachable targets tolerated over all waves
  bool rollback = true;
  bool json = false;
};

// Every target concurrently; prints per target in order once all are done (text or JSON lines);
// returns the exit code (CombineExitCodes).
int RunPush(const Globals& globals, const PushPlan& plan, bool json);

// The wave push; returns the exit code: CombineExitCodes over the targets pushed (a failed
// rollback counts as 1); targets not pushed do not count.
int RunWaves(const Globals& globals, const PushPlan& plan, const WaveOptions& options);

}  // namespace rwproxy::cli

#endif  // RWPROXY_CLI_WAVES_H_
