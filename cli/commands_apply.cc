// rwctl apply, rwctl rollback: change the live config on one or several servers.
#include <algorithm>
#include <iostream>
#include <memory>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "cli/commands.h"
#include "cli/guard.h"
#include "cli/output.h"
#include "cli/push.h"
#include "cli/targets.h"
#include "cli/violations.h"
#include "cli/waves.h"

namespace rwproxy::cli {
namespace {

struct ApplyFlags {
  std::string file;
  std::string file_flag;
  bool dry_run = false;
  uint64_t expect_version = 0;
  const CLI::Option* expect_option = nullptr;
  std::string description;
  std::string output;
  // Guarded apply and waves.
  std::string guard;
  std::string max_error_ratio;
  uint64_t min_requests = 0;
  const CLI::Option* min_requests_option = nullptr;
  bool no_wait = false;
  std::string waves;
  size_t max_unavailable = 0;
  const CLI::Option* max_unavailable_option = nullptr;
  bool no_rollback = false;
};

struct RollbackFlags {
  uint64_t version = 0;
  uint64_t expect_version = 0;
  const CLI::Option* expect_option = nullptr;
  std::string description;
  std::string output;
};

// -o json: one line per target, in order, all on stdout; the exit code as for text.
int PrintTargetJson(const std::vector<std::string>& json,
                    const std::vector<TargetResult>& results) {
  std::vector<int> codes;
  for (size_t i = 0; i < json.size(); ++i) {
    std::cout << json[i] << "\n";
    codes.push_back(results[i].exit_code);
  }
  std::cout.flush();
  return CombineExitCodes(codes);
}

// Flags that only make sense together: a usage error names the first misuse.
std::optional<std::string> MisusedFlag(const ApplyFlags& flags) {
  const bool guarded = !flags.guard.empty();
  if (!guarded && !flags.max_error_ratio.empty()) return "--max-error-ratio needs --guard";
  if (!guarded && flags.min_requests_option->count() > 0) return "--min-requests needs --guard";
  if (!guarded && flags.no_wait) return "--no-wait needs --guard";
  if (guarded && flags.dry_run) return "--guard and --dry-run exclude each other";
  if (flags.waves.empty()) {
    if (flags.max_unavailable_option->count() > 0) return "--max-unavailable needs --waves";
    if (flags.no_rollback) return "--no-rollback needs --waves";
  } else {
    if (flags.dry_run) return "--waves and --dry-run exclude each other";
    if (flags.no_wait) return "--waves needs the verdicts: drop --no-wait";
  }
  return std::nullopt;
}

int RunApply(const ApplyFlags& flags, const Globals& globals) {
  if (flags.file.empty() == flags.file_flag.empty()) {
    return Fail("apply: give the config as FILE or -f FILE (- for stdin), exactly once",
                kExitUsage);
  }
  if (auto misuse = MisusedFlag(flags)) return Fail("apply: " + *misuse, kExitUsage);
  PushPlan plan;
  if (!flags.guard.empty()) {
    auto guard = MakeGuard(flags.guard, flags.max_error_ratio,
                           flags.min_requests_option->count() > 0
                               ? std::optional<uint64_t>(flags.min_requests)
                               : std::nullopt);
    if (!guard.ok()) return Fail(std::string(guard.status().message()), kExitUsage);
    *plan.request.mutable_guard() = *guard;
    plan.guarded = true;
    plan.wait = !flags.no_wait;
    plan.verdict_wait = VerdictWaitBound(*guard);
  }
  WaveOptions waves;
  if (!flags.waves.empty()) {
    auto ends = ParseWaves(flags.waves, globals.servers.size());
    if (!ends.ok()) return Fail(std::string(ends.status().message()), kExitUsage);
    waves.ends = std::move(*ends);
    waves.spec = flags.waves;
    waves.max_unavailable = flags.max_unavailable;
    waves.rollback = !flags.no_rollback;
    waves.json = flags.output == "json";
    plan.record_previous = true;  // to roll back, or to say what --no-rollback left
  }

  // Parsed and serialized once, whatever the number of targets.
  std::optional<LocalConfig> local =
      LoadLocalConfig(flags.file.empty() ? flags.file_flag : flags.file);
  if (!local) return kExitRejected;
  plan.local = &*local;
  *plan.request.mutable_config() = std::move(local->config);
  if (flags.expect_option->count() > 0) plan.request.set_expected_version(flags.expect_version);
  plan.request.set_dry_run(flags.dry_run);
  plan.request.set_description(flags.description);
  plan.serialized = ControlClient::Serialize(plan.request);
  if (!flags.waves.empty()) return RunWaves(globals, plan, waves);
  return RunPush(globals, plan, flags.output == "json");
}

int RunRollback(const RollbackFlags& flags, const Globals& globals) {
  v1::RollbackRequest request;
  request.set_version(flags.version);
  if (flags.expect_option->count() > 0) request.set_expected_version(flags.expect_version);
  // Empty: the server records "rollback to version N".
  request.set_description(flags.description);
  std::vector<TargetResult> results(globals.servers.size());
  std::vector<std::string> json(globals.servers.size());
  RunPerTarget(globals.servers.size(), kMaxParallelTargets, [&](size_t i) {
    ControlClient client(globals.ForServer(i));
    v1::ApplyResponse response;
    Rejection rejection;
    grpc::Status status = client.Rollback(request, &response, &rejection);
    if (!status.ok()) {
      results[i] = ToResult(status, rejection, "", {});
    } else if (response.changed()) {
      results[i].summary = absl::StrCat("rolled back to version ", flags.version,
                                        ": applied version ", response.version());
    } else {
      results[i].summary = absl::StrCat("unchanged, version ", response.version(),
                                        " already has the content of version ", flags.version);
    }
    json[i] = TargetJson(globals.servers[i], status, response, results[i], false);
  });
  if (flags.output == "json") return PrintTargetJson(json, results);
  return PrintTargetResults(globals.servers, results);
}

}  // namespace

void AddApplyCommands(CLI::App* app, std::vector<Command>* out) {
  auto apply_flags = std::make_shared<ApplyFlags>();
  CLI::App* apply = app->add_subcommand(
      "apply",
      "validate and apply a config file on every --server (concurrently); prints 'applied "
      "version N', 'unchanged, version N' or 'valid (dry run)' per server");
  apply->add_option("FILE", apply_flags->file, "routes.yaml, or - for stdin");
  apply->add_option("-f,--filename", apply_flags->file_flag, "routes.yaml, or - for stdin");
  apply->add_flag("--dry-run", apply_flags->dry_run, "validate on the server; change nothing");
  apply_flags->expect_option =
      apply->add_option("--expect-version", apply_flags->expect_version,
                        "apply only if the live version is N (else exit 1)");
  apply->add_option("-m,--message", apply_flags->description, "description kept in history");
  apply->add_option("--guard", apply_flags->guard,
                    "guarded apply: the server watches the new version's error ratio for this "
                    "long (1s..1h, e.g. 30s) and reverts it by itself; rwctl waits for the "
                    "verdict (exit 1 on a revert)");
  apply->add_option("--max-error-ratio", apply_flags->max_error_ratio,
                    "with --guard: revert above this error ratio (1% or 0.01; server default 1%)");
  apply_flags->min_requests_option =
      apply->add_option("--min-requests", apply_flags->min_requests,
                        "with --guard: judge only after this many requests (server default 100)");
  apply->add_flag("--no-wait", apply_flags->no_wait,
                  "with --guard: return after the apply; the server still guards");
  apply->add_option("--waves", apply_flags->waves,
                    "push to the targets in cumulative waves, e.g. 1,10%,50%,100%; a wave starts "
                    "when every target of the previous one is kept (or applied without --guard)");
  apply_flags->max_unavailable_option =
      apply->add_option("--max-unavailable", apply_flags->max_unavailable,
                        "with --waves: unreachable targets tolerated over all waves (default 0)");
  apply->add_flag("--no-rollback", apply_flags->no_rollback,
                  "with --waves: when a wave fails, leave the targets already changed as they are");
  AddOutputFlag(apply, &apply_flags->output, {"text", "json"});
  out->push_back(
      {apply, true, [apply_flags](const Globals& g) { return RunApply(*apply_flags, g); }});

  auto rollback_flags = std::make_shared<RollbackFlags>();
  CLI::App* rollback =
      app->add_subcommand("rollback", "re-apply an earlier version's content as a new version");
  rollback->add_option("VERSION", rollback_flags->version, "version to restore (see history)")
      ->required();
  rollback_flags->expect_option =
      rollback->add_option("--expect-version", rollback_flags->expect_version,
                           "roll back only if the live version is N (else exit 1)");
  rollback->add_option("-m,--message", rollback_flags->description, "description kept in history");
  AddOutputFlag(rollback, &rollback_flags->output, {"text", "json"});
  out->push_back({rollback, true,
                  [rollback_flags](const Globals& g) { return RunRollback(*rollback_flags, g); }});
}

}  // namespace rwproxy::cli
