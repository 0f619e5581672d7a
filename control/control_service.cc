#include "control/control_service.h"

#include <algorithm>
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

}  // namespace

grpc::Status ToGrpcStatus(const absl::Status& status, grpc::CallbackServerContext* context) {
  if (status.ok()) return grpc::Status::OK;
  if (context != nullptr) {
    v1::ValidateResponse violations = ViolationsOf(status);
    if (violations.violations_size() > 0) {
      context->AddTrailingMetadata(kViolationsMetadataKey, violations.SerializeAsString());
    }
  }
  // absl::StatusCode and grpc::StatusCode share their numbering (both follow google.rpc.Code).
  return grpc::Status(static_cast<grpc::StatusCode>(status.code()), std::string(status.message()));
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
    : store_(store), target_(target), options_(std::move(options)), watches_(store) {}

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

grpc::ServerUnaryReactor* ControlService::RunBlocking(grpc::CallbackServerContext* context,
                                                      std::function<absl::Status()> work) {
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  if (absl::Status status = Authorize(context); !status.ok()) {
    reactor->Finish(ToGrpcStatus(status, context));
    return reactor;
  }
  // The request, response and context live until Finish() is called.
  bool queued = tasks_.Post([reactor, context, work = std::move(work)] {
    reactor->Finish(ToGrpcStatus(work(), context));
  });
  if (!queued) {
    reactor->Finish(grpc::Status(grpc::StatusCode::UNAVAILABLE, "server is shutting down"));
  }
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
    absl::StrAppend(&line, result->changed ? "version " : "no change, live version ",
                    result->version, ", hash ", result->content_hash);
  }
  absl::StrAppend(&line, ", description ", Quoted(description));
  (options_.log ? options_.log : LogToFacade)(line);
  return result.status();
}

grpc::ServerUnaryReactor* ControlService::Apply(grpc::CallbackServerContext* context,
                                                const v1::ApplyRequest* request,
                                                v1::ApplyResponse* response) {
  return RunBlocking(context, [this, context, request, response] {
    ApplyOptions options = OptionsOf(request->has_expected_version(), request->expected_version(),
                                     request->dry_run(), request->description(), *context);
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
  return RunBlocking(context, [this, context, request, response] {
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
  return RunBlocking(context, [this, request, response] {
    ToProto(store_->Validate(request->config()), response);
    return absl::OkStatus();
  });
}

grpc::ServerUnaryReactor* ControlService::GetStats(grpc::CallbackServerContext* context,
                                                   const v1::GetStatsRequest*,
                                                   v1::GetStatsResponse* response) {
  return RunBlocking(context, [this, response] {
    StatsToProto(target_->CollectStats(), response);
    return absl::OkStatus();
  });
}

grpc::ServerUnaryReactor* ControlService::GetClusters(grpc::CallbackServerContext* context,
                                                      const v1::GetClustersRequest*,
                                                      v1::GetClustersResponse* response) {
  return RunBlocking(context, [this, response] {
    ClustersToProto(target_->Clusters(), response);
    return absl::OkStatus();
  });
}

grpc::ServerUnaryReactor* ControlService::GetServerInfo(grpc::CallbackServerContext* context,
                                                        const v1::GetServerInfoRequest*,
                                                        v1::GetServerInfoResponse* response) {
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  absl::Status status = Authorize(context);
  if (status.ok()) {
    const absl::Duration uptime = options_.now() - options_.started;
    response->set_server_version(RWPROXY_VERSION);
    response->set_started_unix_ms(absl::ToUnixMillis(options_.started));
    response->set_uptime_seconds(
        static_cast<uint64_t>(std::max<int64_t>(0, absl::ToInt64Seconds(uptime))));
    response->set_config_version(store_->live().info.version());
  }
  reactor->Finish(ToGrpcStatus(status, context));
  return reactor;
}

grpc::ServerUnaryReactor* ControlService::GetConfig(grpc::CallbackServerContext* context,
                                                    const v1::GetConfigRequest*,
                                                    v1::GetConfigResponse* response) {
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  absl::Status status = Authorize(context);
  if (status.ok()) {
    LiveConfig live = store_->live();
    response->set_version(live.info.version());
    *response->mutable_config() = *live.config;
    response->set_content_hash(live.info.content_hash());
    response->set_config_file_error(store_->config_file_error());
  }
  reactor->Finish(ToGrpcStatus(status, context));
  return reactor;
}

grpc::ServerUnaryReactor* ControlService::ListVersions(grpc::CallbackServerContext* context,
                                                       const v1::ListVersionsRequest* request,
                                                       v1::ListVersionsResponse* response) {
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  absl::Status status = Authorize(context);
  if (status.ok()) {
    const uint32_t limit = request->limit() == 0 ? kDefaultListLimit : request->limit();
    for (auto& info : store_->History(limit)) *response->add_versions() = std::move(info);
  }
  reactor->Finish(ToGrpcStatus(status, context));
  return reactor;
}

grpc::ServerUnaryReactor* ControlService::Explain(grpc::CallbackServerContext* context,
                                                  const v1::ExplainRequest* request,
                                                  v1::ExplainResponse* response) {
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  absl::Status status = Authorize(context);
  if (status.ok()) {
    std::shared_ptr<const Snapshot> snapshot = target_->current();
    if (snapshot == nullptr) {
      status = absl::UnavailableError("no config is live yet");
    } else {
      *response = control::Explain(*snapshot, *request);
    }
  }
  reactor->Finish(ToGrpcStatus(status, context));
  return reactor;
}

grpc::ServerWriteReactor<v1::VersionEvent>* ControlService::Watch(
    grpc::CallbackServerContext* context, const v1::WatchRequest*) {
  if (absl::Status status = Authorize(context); !status.ok()) {
    // A reactor that finishes at once.
    class Refused : public grpc::ServerWriteReactor<v1::VersionEvent> {
     public:
      explicit Refused(grpc::Status status) { Finish(std::move(status)); }
      void OnDone() override { delete this; }
    };
    return new Refused(ToGrpcStatus(status, context));
  }
  return watches_.Start(context);
}

}  // namespace rwproxy::control
