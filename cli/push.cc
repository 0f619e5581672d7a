#include "cli/push.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "cli/guard.h"
#include "cli/output.h"

namespace rwproxy::cli {
namespace {

std::string Plural(size_t n, const char* noun) {
  return absl::StrCat(n, " ", noun, n == 1 ? "" : "s");
}

}  // namespace

const char* PushStateName(PushState state) {
  switch (state) {
    case PushState::kRunning: return "running";
    case PushState::kApplied: return "applied";
    case PushState::kUnchanged: return "unchanged";
    case PushState::kDryRun: return "dry_run";
    case PushState::kPending: return "pending";
    case PushState::kKept: return "kept";
    case PushState::kReverted: return "reverted";
    case PushState::kSuperseded: return "superseded";
    case PushState::kRevertFailed: return "revert_failed";
    case PushState::kNoVerdict: return "no_verdict";
    case PushState::kUnguarded: return "unguarded";
    case PushState::kRejected: return "rejected";
    case PushState::kUnreachable: return "unreachable";
    case PushState::kFailed: return "failed";
  }
  return "unknown";
}

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

TargetPush::TargetPush(const Globals& globals, size_t index, const PushPlan& plan,
                       Wakeup* wakeup)
    : plan_(plan),
      server_(globals.servers.at(index)),
      client_(std::make_unique<ControlClient>(globals.ForServer(index))),
      wakeup_(wakeup) {}

TargetPush::~TargetPush() { watch_.reset(); }  // before the client it borrows

bool TargetPush::Begin() {
  const bool await_verdict = plan_.guarded && plan_.wait;
  if (await_verdict) {
    watch_ = std::make_unique<VerdictWatch>(client_.get(), wakeup_);
    watch_->Start();
    // The first event comes at once from a server with a config; one without sends none.
    previous_ = watch_->WaitFirst(std::min(client_->options().timeout, absl::Seconds(2)));
  }
  if (plan_.record_previous && !previous_) {
    v1::ListVersionsResponse versions;
    grpc::Status status = client_->ListVersions(1, &versions);
    if (!status.ok()) {
      status_ = status;
      result_ = ToResult(status, {}, "", {});
      Finish(result_.exit_code == kExitUnreachable ? PushState::kUnreachable : PushState::kFailed);
      return true;
    }
    if (versions.versions_size() > 0) previous_ = versions.versions(0).version();
  }
  Rejection rejection;
  status_ = client_->ApplySerialized(plan_.serialized, plan_.request, &response_, &rejection);
  if (!status_.ok()) {
    result_ = ToResult(status_, rejection, plan_.local->name, plan_.local->map);
    Finish(status_.error_code() == grpc::StatusCode::INVALID_ARGUMENT ? PushState::kRejected
           : result_.exit_code == kExitUnreachable                    ? PushState::kUnreachable
                                                                      : PushState::kFailed);
    return true;
  }
  const uint64_t v = response_.version();
  if (plan_.request.dry_run()) {
    result_.summary = response_.changed()
                          ? absl::StrCat("valid (dry run): would apply version ", v)
                          : absl::StrCat("valid (dry run): unchanged, version ", v);
    Finish(PushState::kDryRun);
    return true;
  }
  if (!response_.changed()) {
    result_.summary = absl::StrCat("unchanged, version ", v);
    if (plan_.guarded) absl::StrAppend(&result_.summary, "; guard: not needed (no change)");
    Finish(PushState::kUnchanged);
    return true;
  }
  result_.summary = absl::StrCat("applied version ", v);
  if (!plan_.guarded) {
    Finish(PushState::kApplied);
    return true;
  }
  verdict_ = response_.guard();
  if (verdict_.outcome() == v1::GuardVerdict::NONE && (previous_ == 0u || v == 1)) {
    absl::StrAppend(&result_.summary, "; guard: not needed (the first version: nothing to revert to)");
    Finish(PushState::kApplied);
    return true;
  }
  if (verdict_.outcome() == v1::GuardVerdict::NONE) {  // the server did not take the guard
    absl::StrAppend(&result_.summary, "; ", DescribeVerdict(verdict_));
    result_.exit_code = kExitRejected;
    result_.report_on_stdout = true;
    Finish(PushState::kUnguarded);
    return true;
  }
  if (!plan_.wait || IsDecided(verdict_)) return Check(absl::Now());
  deadline_ = absl::Now() + plan_.verdict_wait;
  return Check(absl::Now());
}

bool TargetPush::Check(absl::Time now) {
  if (!plan_.wait && !IsDecided(verdict_)) {
    absl::StrAppend(&result_.summary, "; ", DescribeVerdict(verdict_));
    Finish(PushState::kPending);
    return true;
  }
  if (!IsDecided(verdict_)) {
    if (auto verdict = watch_->Check(response_.version(), now)) {
      verdict_ = *verdict;
    } else if (now >= deadline_) {
      absl::StrAppend(&result_.summary, "; guard ", plan_.request.guard().duration(),
                      ": no verdict within ", absl::FormatDuration(plan_.verdict_wait),
                      " (the server keeps guarding; see `rwctl history`)");
      result_.exit_code = kExitUnreachable;
      Finish(PushState::kNoVerdict);
      return true;
    } else {
      return false;
    }
  }
  absl::StrAppend(&result_.summary, "; ", DescribeVerdict(verdict_));
  result_.exit_code = VerdictExitCode(verdict_);
  result_.report_on_stdout = true;
  switch (verdict_.outcome()) {
    case v1::GuardVerdict::KEPT:
      Finish(PushState::kKept);
      break;
    case v1::GuardVerdict::REVERTED:
      Finish(PushState::kReverted);
      break;
    case v1::GuardVerdict::REVERT_FAILED:  // the bad version is still live: roll it back
      Finish(PushState::kRevertFailed);
      break;
    default:
      Finish(PushState::kSuperseded);
      break;
  }
  return true;
}

void TargetPush::Finish(PushState state) {
  state_ = state;
  watch_.reset();  // cancels the stream
}

std::string TargetPush::Json(int wave) const {
  std::string json = TargetJson(server_, status_, response_, result_, plan_.request.dry_run());
  json.pop_back();  // '}'
  if (wave > 0) absl::StrAppend(&json, ",\"wave\":", wave);
  // Fleet pushes without guard or waves keep the objects they always had.
  if (plan_.guarded || wave > 0) {
    absl::StrAppend(&json, ",\"result\":", JsonQuote(PushStateName(state_)));
  }
  if (plan_.guarded && status_.ok() && response_.changed()) {
    absl::StrAppend(&json, ",\"guard\":", VerdictJson(verdict_));
  }
  if (state_ == PushState::kNoVerdict || state_ == PushState::kUnguarded) {
    absl::StrAppend(&json, ",\"error\":", JsonQuote(result_.summary));
  }
  return json + "}";
}

bool TargetPush::NeedsRollback() const {
  if (!status_.ok() || !response_.changed() || !previous_) return false;
  return state_ != PushState::kReverted && state_ != PushState::kSuperseded;
}

void TargetPush::RollBack() {
  v1::RollbackRequest request;
  request.set_version(*previous_);
  request.set_expected_version(response_.version());
  request.set_description(absl::StrCat("rwctl apply --waves: roll back version ",
                                       response_.version(), " (a later wave failed)"));
  Rejection rejection;
  rollback_status_ = client_->Rollback(request, &rollback_response_, &rejection);
  if (!rollback_status_.ok()) {
    rollback_result_ = ToResult(rollback_status_, rejection, "", {});
    rollback_result_.summary = absl::StrCat("rollback to version ", *previous_, " failed: ",
                                            rollback_result_.summary);
  } else {
    rollback_result_.summary =
        absl::StrCat("rolled back to version ", *previous_, ": ",
                     rollback_response_.changed() ? "applied " : "unchanged, ", "version ",
                     rollback_response_.version());
  }
}

std::string TargetPush::RollbackJson(int wave) const {
  std::string json = absl::StrCat("{\"target\":", JsonQuote(server_), ",\"wave\":", wave,
                                  ",\"rollback\":{\"restored_version\":", previous_.value_or(0),
                                  ",\"version\":", rollback_response_.version(),
                                  ",\"changed\":", rollback_response_.changed() ? "true" : "false");
  if (!rollback_status_.ok()) {
    absl::StrAppend(&json, ",\"error\":", JsonQuote(rollback_result_.summary),
                    ",\"code\":", JsonQuote(StatusCodeName(rollback_status_.error_code())));
  }
  return json + "}}";
}

}  // namespace rwproxy::cli
