#include "control/control_service.h"

#include <algorithm>
#include <chrono>
#include <exception>
#include <utility>

#include "absl/strings/str_cat.h"
#include "control/explain.h"
#include "control/violations.h"
#include "server/log/log.h"
#include "server/util/sv.h"

namespace rwproxy::control {
namespace {

constexpr uint32_t kDefaultListLimit = 50;

// The default log of mutating calls: debug, since the store logs every applied version at info
// and ControlServer logs every failed call at warn.
void LogToFacade(const std::string& line) { log::Debug("control", line); }

// The options of an API call; history records it as kSourceApi (Rollback: kSourceRollback) from
// the client's address.
ApplyOptions OptionsOf(bool has_expected, uint64_t expected, bool dry_run,
                       const std::string& description, const grpc::CallbackServerContext& context) {
  ApplyOptions options;
  if (has_expected) options.expected_version = expected;
  options.dry_run = dry_run;
  options.description = description;
  options.source = kSourceApi;
  options.peer = context.peer();
  return options;
}

std::string Quoted(const std::string& text) { return absl::StrCat("\"", text, "\""); }

// Runs `work`; an exception becomes INTERNAL (and an error in the log) instead of escaping into
// gRPC (which would answer UNIMPLEMENTED) or ending the process (on the task thread).
absl::Status Guarded(const char* method, const std::function<absl::Status()>& work) {
  std::string what;
  try {
    return work();
  } catch (const std::exception& e) {
    what = e.what();
  } catch (...) {
    what = "unknown exception";
  }
  log::Error("control", absl::StrCat(method, ": unexpected exception: ", what));
  return absl::InternalError(absl::StrCat(method, " failed on the server: ", what));
}

// Not OK when a queued call should not run any more: its deadline passed or its client
// cancelled it while it waited for the task thread.
absl::Status Expired(const char* method, grpc::CallbackServerContext& context) {
  const auto deadline = context.deadline();
  absl::Status status;
  if (deadline != std::chrono::system_clock::time_point::max() &&
      std::chrono::system_clock::now() >= deadline) {
    status = absl::DeadlineExceededError(absl::StrCat(
        "the deadline passed while the call waited for its turn; ", method, " was not run"));
  } else if (context.IsCancelled()) {
    status = absl::CancelledError(absl::StrCat(
        "the client cancelled the call while it waited for its turn; ", method, " was not run"));
  }
  if (!status.ok()) {
    log::Info("control", absl::StrCat(method, " from ", context.peer(),
                                      " not run: ", absl::StatusCodeToString(status.code())));
  }
  return status;
}

}  // namespace

grpc::Status ToGrpcStatus(const absl::Status& status) {
  if (status.ok()) return grpc::Status::OK;
  // absl::StatusCode and grpc::StatusCode share their numbering (both follow google.rpc.Code).
  const auto code = static_cast<grpc::StatusCode>(status.code());
  v1::ValidateResponse violations = ViolationsOf(status);
  if (violations.violations_size() == 0) {
    const absl::string_view message = status.message();
    return grpc::Status(
        code, Truncate(std::string_view(message.data(), message.size()), kMaxStatusMessageBytes));
  }
  std::string summary = ViolationSummary(violations);
  std::string details = RejectionDetails(static_cast<int>(code), summary, violations);
  return grpc::Status(code, summary, details);
}

bool ConstantTimeEquals(std::string_view a, std::string_view b) {
  const size_t n = std::max(a.size(), b.size());
  unsigned char diff = a.size() == b.size() ? 0 : 1;
  for (size_t i = 0; i < n; ++i) {
    const unsigned char x = i < a.size() ? static_cast<unsigned char>(a[i]) : 0;
    const unsigned char y = i < b.size() ? static_cast<unsigned char>(b[i]) : 0;
    diff |= static_cast<unsigned char>(x ^ y);
  }
  return diff == 0;
}

ControlService::ControlService(ConfigStore* store, ConfigTarget* target, Options options)
    : store_(store),
      target_(target),
      options_(std::move(options)),
      watches_(store, options_.limits.max_watch_streams),
      tasks_(options_.limits.max_queued_calls) {}

ControlService::~ControlService() { Shutdown(); }

void ControlService::Shutdown() {
  watches_.Shutdown();
  tasks_.Stop();
}

absl::Status ControlService::Authorize(const grpc::CallbackServerContext* context) const {
  if (options_.token.empty()) return absl::OkStatus();
  const auto& metadata = context->client_metadata();
  auto it = metadata.find("authorization");
  if (it == metadata.end()) {
    return absl::UnauthenticatedError("missing 'authorization: Bearer <token>' metadata");
  }
  std::string_view value(it->second.data(), it->second.size());
  if (!value.starts_with("Bearer ") && !value.starts_with("bearer ")) {
    return absl::UnauthenticatedError("authorization metadata must be 'Bearer <token>'");
  }
  value.remove_prefix(7);
  if (!ConstantTimeEquals(value, options_.token)) {
    return absl::UnauthenticatedError("invalid token");
  }
  return absl::OkStatus();
}

// One call run on the task thread. It finishes either from the task (which runs the work unless
// the call expired meanwhile) or, when gRPC cancels the call (the client cancelled, the deadline
// passed) before the task started, from OnCancel, which takes the task off the queue: a call
// nobody waits for any more frees its place at once and is never run. Deletes itself in OnDone.
class ControlService::BlockingCall : public grpc::ServerUnaryReactor {
 public:
  BlockingCall(const char* method, grpc::CallbackServerContext* context, TaskThread* tasks)
      : method_(method), context_(context), tasks_(tasks) {}

  // Queues `work`; or finishes at once when the queue is full or stopped.
  void Post(std::function<absl::Status()> work) {
    const TaskThread::PostResult posted = tasks_->Post(
        [this, work = std::move(work)] {
          Finish(ToGrpcStatus(Guarded(method_, [&] {
            if (absl::Status skipped = Expired(method_, *context_); !skipped.ok()) return skipped;
            return work();
          })));
        },
        &task_id_);
    switch (posted) {
      case TaskThread::PostResult::kQueued:
        break;
      case TaskThread::PostResult::kFull:
        Finish(ToGrpcStatus(absl::ResourceExhaustedError(
            absl::StrCat("too many control calls waiting for their turn (limit ",
                         tasks_->max_queued(), ": --control-max-queued-calls); try again later"))));
        break;
      case TaskThread::PostResult::kStopped:
        Finish(grpc::Status(grpc::StatusCode::UNAVAILABLE, "server is shutting down"));
        break;
    }
  }

  void OnCancel() override {
    // Not removed: the task has started (it finishes the call) or the call never got queued.
    if (!tasks_->Cancel(task_id_)) return;
    absl::Status status = Expired(method_, *context_);
    if (status.ok()) status = absl::CancelledError(absl::StrCat(method_, " was cancelled"));
    Finish(ToGrpcStatus(status));
  }

  void OnDone() override { delete this; }

 private:
  const char* const method_;
  grpc::CallbackServerContext* const context_;
  TaskThread* const tasks_;
  TaskThread::TaskId task_id_ = 0;  // 0: never queued
};

grpc::ServerUnaryReactor* ControlService::RunBlocking(const char* method,
                                                      grpc::CallbackServerContext* context,
                                                      std::function<absl::Status()> work) {
  if (absl::Status status = Authorize(context); !status.ok()) {
    grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
    reactor->Finish(ToGrpcStatus(status));
    return reactor;
  }
  // The request, response and context live until the call is done.
  auto* call = new BlockingCall(method, context, &tasks_);
  call->Post(std::move(work));
  return call;
}

grpc::ServerUnaryReactor* ControlService::RunInline(const char* method,
                                                    grpc::CallbackServerContext* context,
                                                    const std::function<absl::Status()>& work) {
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  absl::Status status = Authorize(context);
  if (status.ok()) status = Guarded(method, work);
  reactor->Finish(ToGrpcStatus(status));
  return reactor;
}

absl::Status ControlService::Mutate(std::string_view method, grpc::CallbackServerContext* context,
                                    const std::string& description,
                                    const std::function<absl::StatusOr<ApplyResult>()>& mutation,
                                    v1::ApplyResponse* response) {
  absl::StatusOr<ApplyResult> result = mutation();
  std::string line = absl::StrCat(Sv(method), " from ", context->peer(), ": ");
  if (!result.ok()) {
    const int violations = ViolationsOf(result.status()).violations_size();
    absl::StrAppend(&line, "rejected: ", absl::StatusCodeToString(result.status().code()),
                    violations > 0 ? absl::StrCat(" (", violations, " violations)")
                                   : absl::StrCat(": ", result.status().message()));
  } else {
    response->set_version(result->version);
    response->set_changed(result->changed);
    response->set_content_hash(result->content_hash);
    if (result->guard.outcome() != v1::GuardVerdict::NONE) {
      *response->mutable_guard() = result->guard;
    }
    absl::StrAppend(&line, result->changed ? "version " : "no change, live version ",
                    result->version, ", hash ", result->content_hash);
    if (result->guard.outcome() == v1::GuardVerdict::PENDING) {
      absl::StrAppend(&line, ", guard ", result->guard.duration());
    }
  }
  absl::StrAppend(&line, ", description ", Quoted(description));
  (options_.log ? options_.log : LogToFacade)(line);
  return result.status();
}

grpc::ServerUnaryReactor* ControlService::Apply(grpc::CallbackServerContext* context,
                                                const v1::ApplyRequest* request,
                                                v1::ApplyResponse* response) {
  return RunBlocking("Apply", context, [this, context, request, response] {
    ApplyOptions options = OptionsOf(request->has_expected_version(), request->expected_version(),
                                     request->dry_run(), request->description(), *context);
    auto guard = ParseGuard(request->guard());  // checked for a dry run too
    if (!guard.ok()) return guard.status();
    options.guard = *guard;
    if (options.dry_run) {  // changes nothing: not logged
      auto result = store_->Apply(request->config(), options);
      if (result.ok()) {
        response->set_version(result->version);
        response->set_changed(result->changed);
        response->set_content_hash(result->content_hash);
      }
      return result.status();
    }
    return Mutate(
        "Apply", context, request->description(),
        [&] { return store_->Apply(request->config(), options); }, response);
  });
}

grpc::ServerUnaryReactor* ControlService::Rollback(grpc::CallbackServerContext* context,
                                                   const v1::RollbackRequest* request,
                                                   v1::ApplyResponse* response) {
  return RunBlocking("Rollback", context, [this, context, request, response] {
    ApplyOptions options = OptionsOf(request->has_expected_version(), request->expected_version(),
                                     false, request->description(), *context);
    std::string description = request->description().empty()
                                  ? absl::StrCat("rollback to version ", request->version())
                                  : request->description();
    return Mutate(
        absl::StrCat("Rollback to version ", request->version()), context, description,
        [&] { return store_->Rollback(request->version(), options); }, response);
  });
}

grpc::ServerUnaryReactor* ControlService::Validate(grpc::CallbackServerContext* context,
                                                   const v1::ValidateRequest* request,
                                                   v1::ValidateResponse* response) {
  return RunBlocking("Validate", context, [this, request, response] {
    ToProto(store_->Validate(request->config()), response);
    response->set_total_violations(static_cast<uint32_t>(response->violations_size()));
    return absl::OkStatus();
  });
}

grpc::ServerUnaryReactor* ControlService::GetStats(grpc::CallbackServerContext* context,
                                                   const v1::GetStatsRequest*,
                                                   v1::GetStatsResponse* response) {
  return RunBlocking("GetStats", context, [this, response] {
    StatsToProto(target_->CollectStats(), response);
    return absl::OkStatus();
  });
}

grpc::ServerUnaryReactor* ControlService::GetClusters(grpc::CallbackServerContext* context,
                                                      const v1::GetClustersRequest*,
                                                      v1::GetClustersResponse* response) {
  return RunBlocking("GetClusters", context, [this, response] {
    ClustersToProto(target_->Clusters(), response);
    return absl::OkStatus();
  });
}

grpc::ServerUnaryReactor* ControlService::GetServerInfo(grpc::CallbackServerContext* context,
                                                        const v1::GetServerInfoRequest*,
                                                        v1::GetServerInfoResponse* response) {
  return RunInline("GetServerInfo", context, [this, response] {
    const absl::Duration uptime = options_.now() - options_.started;
    response->set_server_version(RWPROXY_VERSION);
    response->set_started_unix_ms(absl::ToUnixMillis(options_.started));
    response->set_uptime_seconds(
        static_cast<uint64_t>(std::max<int64_t>(0, absl::ToInt64Seconds(uptime))));
    response->set_config_version(store_->live().info.version());
    return absl::OkStatus();
  });
}

grpc::ServerUnaryReactor* ControlService::GetConfig(grpc::CallbackServerContext* context,
                                                    const v1::GetConfigRequest*,
                                                    v1::GetConfigResponse* response) {
  return RunInline("GetConfig", context, [this, response] {
    LiveConfig live = store_->live();
    response->set_version(live.info.version());
    *response->mutable_config() = *live.config;
    response->set_content_hash(live.info.content_hash());
    response->set_config_file_error(store_->config_file_error());
    return absl::OkStatus();
  });
}

grpc::ServerUnaryReactor* ControlService::ListVersions(grpc::CallbackServerContext* context,
                                                       const v1::ListVersionsRequest* request,
                                                       v1::ListVersionsResponse* response) {
  return RunInline("ListVersions", context, [this, request, response] {
    const uint32_t limit = request->limit() == 0 ? kDefaultListLimit : request->limit();
    for (auto& info : store_->History(limit)) *response->add_versions() = std::move(info);
    return absl::OkStatus();
  });
}

grpc::ServerUnaryReactor* ControlService::Explain(grpc::CallbackServerContext* context,
                                                  const v1::ExplainRequest* request,
                                                  v1::ExplainResponse* response) {
  return RunInline("Explain", context, [this, request, response] {
    if (absl::Status status = CheckExplainRequest(*request); !status.ok()) return status;
    std::shared_ptr<const Snapshot> snapshot = target_->current();
    if (snapshot == nullptr) return absl::UnavailableError("no config is live yet");
    *response = control::Explain(*snapshot, *request);
    return absl::OkStatus();
  });
}

// A reactor that finishes at once.
class ControlService::RefusedWatch : public grpc::ServerWriteReactor<v1::VersionEvent> {
 public:
  explicit RefusedWatch(grpc::Status status) { Finish(std::move(status)); }
  void OnDone() override { delete this; }
};

grpc::ServerWriteReactor<v1::VersionEvent>* ControlService::Watch(
    grpc::CallbackServerContext* context, const v1::WatchRequest*) {
  grpc::ServerWriteReactor<v1::VersionEvent>* stream = nullptr;
  absl::Status status = Authorize(context);
  if (status.ok()) {
    status = Guarded("Watch", [&] {
      stream = watches_.Start(context);
      return absl::OkStatus();
    });
  }
  if (stream != nullptr) return stream;
  return new RefusedWatch(ToGrpcStatus(status));
}

}  // namespace rwproxy::control
