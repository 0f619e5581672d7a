#include "cli/client.h"

#include <chrono>
#include <utility>

#include "cli/violations.h"

namespace rwproxy::cli {
namespace {

// The binary violations entry of a finished call, if the server sent one.
std::vector<v1::FieldViolation> CollectViolations(const grpc::ClientContext& context,
                                                  const grpc::Status& status) {
  if (status.ok()) return {};
  // A failed unary call is trailers-only, so the entry is in the trailing metadata.
  std::string bin;
  const std::string* found = nullptr;
  const auto& trailing = context.GetServerTrailingMetadata();
  if (auto it = trailing.find(kViolationsMetadataKey); it != trailing.end()) {
    bin.assign(it->second.data(), it->second.size());
    found = &bin;
  }
  if (found == nullptr && status.error_code() != grpc::StatusCode::INVALID_ARGUMENT) return {};
  return ExtractViolations(status, found);
}

}  // namespace

ControlClient::ControlClient(ClientOptions options) : options_(std::move(options)) {
  grpc::ChannelArguments args;
  // A sidecar either answers at once or is down; do not spend the deadline on reconnect backoff.
  args.SetInt(GRPC_ARG_INITIAL_RECONNECT_BACKOFF_MS, 100);
  args.SetInt(GRPC_ARG_MAX_RECONNECT_BACKOFF_MS, 1000);
  auto channel =
      grpc::CreateCustomChannel(options_.server, grpc::InsecureChannelCredentials(), args);
  stub_ = v1::ControlPlane::NewStub(channel);
}

void ControlClient::Prepare(grpc::ClientContext* context, absl::Duration timeout) const {
  if (timeout != absl::InfiniteDuration()) {
    context->set_deadline(std::chrono::system_clock::now() + absl::ToChronoMilliseconds(timeout));
  }
  if (!options_.token.empty()) context->AddMetadata("authorization", "Bearer " + options_.token);
}

grpc::Status ControlClient::Apply(const v1::ApplyRequest& request, v1::ApplyResponse* response,
                                  std::vector<v1::FieldViolation>* violations) {
  grpc::ClientContext context;
  Prepare(&context, options_.timeout);
  grpc::Status status = stub_->Apply(&context, request, response);
  if (violations != nullptr) *violations = CollectViolations(context, status);
  return status;
}

grpc::Status ControlClient::Rollback(const v1::RollbackRequest& request,
                                     v1::ApplyResponse* response,
                                     std::vector<v1::FieldViolation>* violations) {
  grpc::ClientContext context;
  Prepare(&context, options_.timeout);
  grpc::Status status = stub_->Rollback(&context, request, response);
  if (violations != nullptr) *violations = CollectViolations(context, status);
  return status;
}

grpc::Status ControlClient::Validate(const v1::ValidateRequest& request,
                                     v1::ValidateResponse* response) {
  grpc::ClientContext context;
  Prepare(&context, options_.timeout);
  grpc::Status status = stub_->Validate(&context, request, response);
  if (status.error_code() == grpc::StatusCode::INVALID_ARGUMENT) {
    response->clear_violations();
    for (auto& v : CollectViolations(context, status)) *response->add_violations() = std::move(v);
    return grpc::Status::OK;
  }
  return status;
}

grpc::Status ControlClient::GetConfig(v1::GetConfigResponse* response) {
  grpc::ClientContext context;
  Prepare(&context, options_.timeout);
  return stub_->GetConfig(&context, v1::GetConfigRequest(), response);
}

grpc::Status ControlClient::ListVersions(uint32_t limit, v1::ListVersionsResponse* response) {
  grpc::ClientContext context;
  Prepare(&context, options_.timeout);
  v1::ListVersionsRequest request;
  request.set_limit(limit);
  return stub_->ListVersions(&context, request, response);
}

grpc::Status ControlClient::Explain(const v1::ExplainRequest& request,
                                    v1::ExplainResponse* response) {
  grpc::ClientContext context;
  Prepare(&context, options_.timeout);
  return stub_->Explain(&context, request, response);
}

grpc::Status ControlClient::GetStats(v1::GetStatsResponse* response) {
  grpc::ClientContext context;
  Prepare(&context, options_.timeout);
  return stub_->GetStats(&context, v1::GetStatsRequest(), response);
}

grpc::Status ControlClient::GetClusters(v1::GetClustersResponse* response) {
  grpc::ClientContext context;
  Prepare(&context, options_.timeout);
  return stub_->GetClusters(&context, v1::GetClustersRequest(), response);
}

grpc::Status ControlClient::GetServerInfo(v1::GetServerInfoResponse* response) {
  grpc::ClientContext context;
  Prepare(&context, options_.timeout);
  return stub_->GetServerInfo(&context, v1::GetServerInfoRequest(), response);
}

grpc::Status ControlClient::Watch(absl::Duration timeout, bool wait_for_ready,
                                  const std::function<bool(const v1::VersionEvent&)>& on_event) {
  grpc::ClientContext context;
  Prepare(&context, timeout);
  context.set_wait_for_ready(wait_for_ready);
  auto reader = stub_->Watch(&context, v1::WatchRequest());
  v1::VersionEvent event;
  bool stopped = false;
  while (reader->Read(&event)) {
    if (!on_event(event)) {
      stopped = true;
      context.TryCancel();
      break;
    }
  }
  grpc::Status status = reader->Finish();
  return stopped ? grpc::Status::OK : status;
}

}  // namespace rwproxy::cli
