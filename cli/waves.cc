#include "cli/waves.h"

#include <algorithm>
#include <cmath>
#include <iostream>
#include <map>
#include <mutex>
#include <thread>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "cli/output.h"
#include "cli/targets.h"

namespace rwproxy::cli {
namespace {

using Pushes = std::vector<std::unique_ptr<TargetPush>>;

// Begins targets [begin, end) on RunPerTarget threads and waits for their verdicts on this
// thread. on_finish(i) runs once per target as it finishes, serialized by a mutex.
void PushTargets(Pushes& pushes, size_t begin, size_t end, Wakeup* wakeup,
                 const std::function<void(size_t)>& on_finish) {
  std::mutex mu;  // pending, begun_all; serializes on_finish
  std::vector<size_t> pending;
  bool begun_all = false;
  std::thread starter([&] {
    RunPerTarget(end - begin, kMaxParallelTargets, [&](size_t k) {
      const size_t i = begin + k;
      const bool finished = pushes[i]->Begin();
      std::lock_guard<std::mutex> lock(mu);
      if (finished) {
        on_finish(i);
      } else {
        pending.push_back(i);
      }
      wakeup->Notify();
    });
    std::lock_guard<std::mutex> lock(mu);
    begun_all = true;
    wakeup->Notify();
  });
  for (;;) {
    const uint64_t seen = wakeup->generation();
    absl::Time next = absl::InfiniteFuture();
    {
      std::lock_guard<std::mutex> lock(mu);
      const absl::Time now = absl::Now();
      for (auto it = pending.begin(); it != pending.end();) {
        if (pushes[*it]->Check(now)) {
          on_finish(*it);
          it = pending.erase(it);
        } else {
          next = std::min(next, pushes[*it]->deadline());
          ++it;
        }
      }
      if (begun_all && pending.empty()) break;
      // A watch that ended is polled once a second.
      if (!pending.empty()) next = std::min(next, now + absl::Seconds(1));
    }
    wakeup->WaitUntil(seen, next);
  }
  starter.join();
}

Pushes MakePushes(const Globals& globals, const PushPlan& plan, Wakeup* wakeup) {
  Pushes pushes;
  for (size_t i = 0; i < globals.servers.size(); ++i) {
    pushes.push_back(std::make_unique<TargetPush>(globals, i, plan, wakeup));
  }
  return pushes;
}

void PrintLine(const std::string& server, const TargetResult& result) {
  std::cout << server << ": " << result.summary << "\n";
  for (const auto& line : result.details) std::cout << "  " << line << "\n";
  std::cout.flush();
}

bool IsGood(PushState state) {
  return state == PushState::kApplied || state == PushState::kUnchanged ||
         state == PushState::kKept;
}

// "kept 19, reverted 1" style counts of states in [begin, end), in enum order.
std::map<PushState, size_t> Count(const Pushes& pushes, size_t begin, size_t end) {
  std::map<PushState, size_t> counts;
  for (size_t i = begin; i < end; ++i) ++counts[pushes[i]->state()];
  return counts;
}

std::string CountsText(const std::map<PushState, size_t>& counts, bool good) {
  std::vector<std::string> parts;
  for (const auto& [state, n] : counts) {
    if (IsGood(state) == good) parts.push_back(absl::StrCat(n, " ", PushStateName(state)));
  }
  return absl::StrJoin(parts, ", ");
}

}  // namespace

absl::StatusOr<std::vector<size_t>> ParseWaves(const std::string& spec, size_t targets) {
  std::vector<size_t> ends;
  size_t last = 0;
  uint64_t last_size = 0;  // before clamping to `targets`: "2,1" is an error over 1 target too
  for (absl::string_view item : absl::StrSplit(spec, ',')) {
    absl::string_view text = absl::StripAsciiWhitespace(item);
    const std::string quoted = absl::StrCat("'", std::string(text), "'");
    if (text.empty()) return absl::InvalidArgumentError(absl::StrCat("--waves '", spec,
                                                                     "': empty wave size"));
    size_t end = 0;
    uint64_t size = 0;
    if (absl::ConsumeSuffix(&text, "%")) {
      double percent = 0;
      if (text.empty() || !absl::SimpleAtod(text, &percent) || !(percent > 0 && percent <= 100)) {
        return absl::InvalidArgumentError(
            absl::StrCat("--waves: ", quoted, " is not a percentage in (0%, 100%]"));
      }
      end = static_cast<size_t>(std::ceil(percent * static_cast<double>(targets) / 100 - 1e-9));
      size = end;
    } else {
      uint64_t count = 0;
      if (!absl::SimpleAtoi(text, &count) || count == 0) {
        return absl::InvalidArgumentError(absl::StrCat(
            "--waves: ", quoted, " is not a target count (1, 2, ...) or a percentage (10%)"));
      }
      end = static_cast<size_t>(std::min<uint64_t>(count, targets));
      size = count;
    }
    end = std::min(end, targets);
    if (size < last_size) {
      return absl::InvalidArgumentError(absl::StrCat(
          "--waves: sizes are cumulative; ", quoted, " (", size, " targets) is smaller than the "
          "wave before it (", last_size, ")"));
    }
    last_size = size;
    if (end > last) ends.push_back(end);
    last = end;
  }
  if (last < targets) {
    return absl::InvalidArgumentError(absl::StrCat("--waves '", spec, "': the last wave reaches ",
                                                   last, " of ", targets,
                                                   " targets; end with 100%"));
  }
  return ends;
}

int RunPush(const Globals& globals, const PushPlan& plan, bool json) {
  Wakeup wakeup;
  Pushes pushes = MakePushes(globals, plan, &wakeup);
  PushTargets(pushes, 0, pushes.size(), &wakeup, [](size_t) {});
  std::vector<TargetResult> results;
  for (const auto& push : pushes) results.push_back(push->result());
  if (!json) return PrintTargetResults(globals.servers, results);
  std::vector<int> codes;
  for (const auto& push : pushes) {
    std::cout << push->Json(0) << "\n";
    codes.push_back(push->result().exit_code);
  }
  std::cout.flush();
  return CombineExitCodes(codes);
}

int RunWaves(const Globals& globals, const PushPlan& plan, const WaveOptions& options) {
  Wakeup wakeup;
  Pushes pushes = MakePushes(globals, plan, &wakeup);
  const size_t n = pushes.size();
  const size_t waves = options.ends.size();
  std::vector<int> wave_of(n, 0);
  std::vector<int> codes;
  size_t begin = 0, unreachable = 0;
  int failed_wave = 0;
  std::string reason;
  for (size_t w = 0; w < waves && failed_wave == 0; ++w) {
    const size_t end = options.ends[w];
    for (size_t i = begin; i < end; ++i) wave_of[i] = static_cast<int>(w + 1);
    if (!options.json) {
      std::cout << "wave " << w + 1 << " of " << waves << ": " << end - begin << " target"
                << (end - begin == 1 ? "" : "s") << " (" << begin + 1 << ".." << end << " of " << n
                << ")" << std::endl;
    }
    PushTargets(pushes, begin, end, &wakeup, [&](size_t i) {
      codes.push_back(pushes[i]->result().exit_code);
      if (options.json) {
        std::cout << pushes[i]->Json(wave_of[i]) << std::endl;
      } else {
        PrintLine(pushes[i]->server(), pushes[i]->result());
      }
    });
    const auto counts = Count(pushes, begin, end);
    unreachable += counts.contains(PushState::kUnreachable) ? counts.at(PushState::kUnreachable) : 0;
    auto bad = counts;
    bad.erase(PushState::kUnreachable);
    std::string bad_text = CountsText(bad, false);
    if (!bad_text.empty()) {
      reason = bad_text;
    } else if (unreachable > options.max_unavailable) {
      reason = absl::StrCat(unreachable, " unreachable, more than --max-unavailable ",
                            options.max_unavailable);
    }
    if (!reason.empty()) failed_wave = static_cast<int>(w + 1);
    begin = end;
  }

  // Roll back what the failed push changed.
  std::vector<size_t> undo;
  if (failed_wave > 0) {
    for (size_t i = 0; i < begin; ++i) {
      if (pushes[i]->NeedsRollback()) undo.push_back(i);
    }
  }
  size_t rolled_back = 0, rollback_failed = 0;
  if (options.rollback && !undo.empty()) {
    if (!options.json) {
      std::cout << "rolling back " << undo.size() << " target" << (undo.size() == 1 ? "" : "s")
                << " changed by this push" << std::endl;
    }
    std::mutex mu;
    RunPerTarget(undo.size(), kMaxParallelTargets, [&](size_t k) {
      TargetPush& push = *pushes[undo[k]];
      push.RollBack();
      std::lock_guard<std::mutex> lock(mu);
      if (push.rollback_result().exit_code == kExitOk) {
        ++rolled_back;
      } else {
        ++rollback_failed;
        codes.push_back(kExitRejected);
      }
      if (options.json) {
        std::cout << push.RollbackJson(wave_of[undo[k]]) << std::endl;
      } else {
        PrintLine(push.server(), push.rollback_result());
      }
    });
  }
  for (size_t i = begin; i < n; ++i) {
    if (options.json) {
      std::cout << "{\"target\":" << JsonQuote(pushes[i]->server()) << ",\"skipped\":true}\n";
    } else {
      std::cout << pushes[i]->server() << ": not pushed (wave " << failed_wave << " failed)\n";
    }
  }

  const int exit_code = CombineExitCodes(codes);
  const auto counts = Count(pushes, 0, begin);
  if (options.json) {
    std::vector<std::string> state_counts;
    for (PushState s : {PushState::kApplied, PushState::kUnchanged, PushState::kKept,
                        PushState::kReverted, PushState::kSuperseded, PushState::kRevertFailed,
                        PushState::kNoVerdict,
                        PushState::kUnguarded, PushState::kRejected, PushState::kUnreachable,
                        PushState::kFailed}) {
      state_counts.push_back(absl::StrCat("\"", PushStateName(s), "\":",
                                          counts.contains(s) ? counts.at(s) : 0));
    }
    std::cout << "{\"summary\":true,\"waves\":[" << absl::StrJoin(options.ends, ",")
              << "],\"waves_done\":" << (failed_wave > 0 ? failed_wave - 1 : waves)
              << ",\"failed_wave\":" << failed_wave << ",\"reason\":" << JsonQuote(reason)
              << ",\"targets\":" << n << ",\"pushed\":" << begin << ",\"not_pushed\":"
              << n - begin << "," << absl::StrJoin(state_counts, ",")
              << ",\"rolled_back\":" << rolled_back << ",\"rollback_failed\":" << rollback_failed
              << ",\"not_rolled_back\":" << (options.rollback ? 0 : undo.size())
              << ",\"exit_code\":" << exit_code << "}" << std::endl;
    return exit_code;
  }
  std::string line;
  std::string all = CountsText(counts, true);
  std::string other = CountsText(counts, false);
  if (!other.empty()) all = all.empty() ? other : absl::StrCat(all, ", ", other);
  if (failed_wave == 0) {
    line = absl::StrCat("waves ", options.spec, ": all ", waves, " done; ", n, " targets: ", all);
  } else {
    line = absl::StrCat("waves ", options.spec, ": wave ", failed_wave, " of ", waves,
                        " failed (", reason, "); ", begin, " of ", n, " targets pushed (", all,
                        "), ", n - begin, " not pushed");
    if (undo.empty()) {
      absl::StrAppend(&line, "; nothing to roll back");
    } else if (options.rollback) {
      absl::StrAppend(&line, "; rolled back ", rolled_back, " of ", undo.size());
    } else {
      absl::StrAppend(&line, "; --no-rollback: ", undo.size(), " target",
                      undo.size() == 1 ? "" : "s", " keep the new config");
    }
  }
  std::cout << line << std::endl;
  return exit_code;
}

}  // namespace rwproxy::cli
