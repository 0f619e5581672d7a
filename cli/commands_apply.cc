// rwctl apply, rwctl rollback: change the live config on one or several servers.
#include <algorithm>
#include <iostream>
#include <memory>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "cli/commands.h"
#include "cli/output.h"
#include "cli/targets.h"
#include "cli/violations.h"

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
};

struct RollbackFlags {
  uint64_t version = 0;
  uint64_t expect_version = 0;
  const CLI::Option* expect_option = nullptr;
  std::string description;
  std::string output;
};

std::string Plural(size_t n, const char* noun) {
  return absl::StrCat(n, " ", noun, n == 1 ? "" : "s");
}

// The result of an Apply or Rollback call. `file`/`map` locate violations (file may be "").
TargetResult ToResult(const grpc::Status& status, const Rejection& rejection,
                      const std::string& file, const yaml::SourceMap& map) {
  TargetResult result;
  result.exit_code = ExitCodeFor(status.error_code());
  const std::vector<v1::FieldViolation>& violations = rejection.violations;
  if (status.error_code() == grpc::StatusCode::INVALID_ARGUMENT && !violations.empty()) {
    for (const auto& v : violations) result.details.push_back(FormatViolation(file, map, v));
    const size_t total = std::max(rejection.total, violations.size());
    result.summary = absl::StrCat("rejected: ", Plural(total, "violation"));
    if (rejection.truncated) {  // the server could send only the first ones
      absl::StrAppend(&result.summary, " (", violations.size(), " shown",
                      file.empty() ? "" : "; `rwctl validate FILE` lists them all", ")");
    }
  } else {
    result.summary = DescribeError(status);
  }
  return result;
}

// One target's outcome as one JSON line (-o json):
// {"target":A,"version":N,"changed":B,"content_hash":H[,"dry_run":true]
//  [,"error":TEXT,"code":NAME[,"violations":[LINE,...]]]}
std::string TargetJson(const std::string& target, const grpc::Status& status,
                       const v1::ApplyResponse& response, const TargetResult& result,
                       bool dry_run) {
  std::string line =
      absl::StrCat("{\"target\":", JsonQuote(target), ",\"version\":", response.version(),
                   ",\"changed\":", response.changed() ? "true" : "false",
                   ",\"content_hash\":", JsonQuote(response.content_hash()));
  if (dry_run) absl::StrAppend(&line, ",\"dry_run\":true");
  if (!status.ok()) {
    std::string error = result.summary;
    if (error.starts_with("error: ")) error.erase(0, 7);
    absl::StrAppend(&line, ",\"error\":", JsonQuote(error),
                    ",\"code\":", JsonQuote(StatusCodeName(status.error_code())));
    if (!result.details.empty()) {
      std::vector<std::string> quoted;
      for (const auto& detail : result.details) quoted.push_back(JsonQuote(detail));
      absl::StrAppend(&line, ",\"violations\":[", absl::StrJoin(quoted, ","), "]");
    }
  }
  return line + "}";
}

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

int RunApply(const ApplyFlags& flags, const Globals& globals) {
  if (flags.file.empty() == flags.file_flag.empty()) {
    return Fail("apply: give the config as FILE or -f FILE (- for stdin), exactly once",
                kExitUsage);
  }
  std::optional<LocalConfig> local =
      LoadLocalConfig(flags.file.empty() ? flags.file_flag : flags.file);
  if (!local) return kExitRejected;

  v1::ApplyRequest request;
  *request.mutable_config() = local->config;
  if (flags.expect_option->count() > 0) request.set_expected_version(flags.expect_version);
  request.set_dry_run(flags.dry_run);
  request.set_description(flags.description);

  std::vector<TargetResult> results(globals.servers.size());
  std::vector<std::string> json(globals.servers.size());
  RunPerTarget(globals.servers.size(), kMaxParallelTargets, [&](size_t i) {
    ControlClient client(globals.ForServer(i));
    v1::ApplyResponse response;
    Rejection rejection;
    grpc::Status status = client.Apply(request, &response, &rejection);
    if (!status.ok()) {
      results[i] = ToResult(status, rejection, local->name, local->map);
    } else if (flags.dry_run) {
      results[i].summary =
          response.changed()
              ? absl::StrCat("valid (dry run): would apply version ", response.version())
              : absl::StrCat("valid (dry run): unchanged, version ", response.version());
    } else if (response.changed()) {
      results[i].summary = absl::StrCat("applied version ", response.version());
    } else {
      results[i].summary = absl::StrCat("unchanged, version ", response.version());
    }
    json[i] = TargetJson(globals.servers[i], status, response, results[i], flags.dry_run);
  });
  if (flags.output == "json") return PrintTargetJson(json, results);
  return PrintTargetResults(globals.servers, results);
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
