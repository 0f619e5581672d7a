#include "cli/client.h"

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <utility>

namespace rwproxy::cli {
namespace {

int Millis(absl::Duration d) {
  return static_cast<int>(std::clamp<int64_t>(absl::ToInt64Milliseconds(d), 1, INT32_MAX));
}

// The violations of a finished call: status details, else the trailer of older servers.
Rejection CollectViolations(const grpc::ClientContext& context, const grpc::Status& status) {
  if (status.ok()) return {};
  // A failed unary call is trailers-only, so the entry is in the trailing metadata.
  std::string bin;
  const std::string* found = nullptr;
  const auto& trailing = context.GetServerTrailingMetadata();
  if (auto it = trailing.find(kViolationsMetadataKey); it != trailing.end()) {
    bin.assign(it->second.data(), it->second.size());
    found = &bin;
  }
  if (found == nullptr && status.error_details().empty() &&
      status.error_code() != grpc::StatusCode::INVALID_ARGUMENT) {
    return {};
  }
  return ExtractViolations(status, found);
}

}  // namespace

ControlClient::ControlClient(ClientOptions options) : options_(std::move(options)) {
  grpc::ChannelArguments args;
  // A sidecar either answers at once or is down; do not spend the deadline on reconnect backoff.
  args.SetInt(GRPC_ARG_INITIAL_RECONNECT_BACKOFF_MS, 100);
  args.SetInt(GRPC_ARG_MAX_RECONNECT_BACKOFF_MS, 1000);
  args.SetMaxReceiveMessageSize(options_.max_message_bytes);
  args.SetMaxSendMessageSize(options_.max_message_bytes);
  // Ping while a call is open (a Watch may see no data for hours), and keep pinging.
  args.SetInt(GRPC_ARG_KEEPALIVE_TIME_MS, Millis(options_.keepalive_time));
  args.SetInt(GRPC_ARG_KEEPALIVE_TIMEOUT_MS, Millis(options_.keepalive_timeout));
  args.SetInt(GRPC_ARG_KEEPALIVE_PERMIT_WITHOUT_CALLS, 0);
  args.SetInt(GRPC_ARG_HTTP2_MAX_PINGS_WITHOUT_DATA, 0);
  channel_ = grpc::CreateCustomChannel(options_.server, grpc::InsecureChannelCredentials(), args);
  stub_ = v1::ControlPlane::NewStub(channel_);
}

void ControlClient::Prepare(grpc::ClientContext* context, absl::Duration timeout) const {
  if (timeout != absl::InfiniteDuration()) {
    context->set_deadline(std::chrono::system_clock::now() + absl::ToChronoMilliseconds(timeout));
  }
  if (!options_.token.empty()) context->AddMetadata("authorization", "Bearer " + options_.token);
}

grpc::Status ControlClient::Apply(const v1::ApplyRequest& request, v1::ApplyResponse* response,
                                  Rejection* rejection) {
  grpc::ClientContext context;
  Prepare(&context, options_.timeout);
  grpc::Status status = stub_->Apply(&context, request, response);
  return FinishApply(context, status, request, rejection);
}

grpc::ByteBuffer ControlClient::Serialize(const v1::ApplyRequest& request) {
  grpc::ByteBuffer buffer;
  bool own = false;
  grpc::SerializationTraits<v1::ApplyRequest>::Serialize(request, &buffer, &own);
  return buffer;
}

grpc::Status ControlClient::ApplySerialized(const grpc::ByteBuffer& serialized,
                                            const v1::ApplyRequest& request,
                                            v1::ApplyResponse* response, Rejection* rejection) {
  grpc::ClientContext context;
  Prepare(&context, options_.timeout);
  grpc::TemplatedGenericStub<grpc::ByteBuffer, v1::ApplyResponse> generic(channel_);
  std::mutex mu;
  std::condition_variable done_cv;
  bool done = false;
  grpc::Status status;
  grpc::ByteBuffer copy = serialized;  // shares the slices; no bytes copied
  generic.UnaryCall(&context, "/rwproxy.control.v1.ControlPlane/Apply", grpc::StubOptions(), &copy,
                    response, [&](grpc::Status s) {
                      std::lock_guard<std::mutex> lock(mu);
                      status = std::move(s);
                      done = true;
                      done_cv.notify_one();
                    });
  std::unique_lock<std::mutex> lock(mu);
  done_cv.wait(lock, [&] { return done; });
  return FinishApply(context, status, request, rejection);
}

grpc::Status ControlClient::FinishApply(const grpc::ClientContext& context,
                                        const grpc::Status& status,
                                        const v1::ApplyRequest& request, Rejection* rejection) {
  if (rejection == nullptr) return status;
  *rejection = CollectViolations(context, status);
  if (status.error_code() == grpc::StatusCode::INVALID_ARGUMENT && rejection->truncated) {
    // Only the first violations fit in the trailers: the response body of Validate has them all.
    v1::ValidateRequest validate;
    *validate.mutable_config() = request.config();
    v1::ValidateResponse all;
    if (Validate(validate, &all).ok() && all.violations_size() > 0) {
      rejection->violations.assign(all.violations().begin(), all.violations().end());
      rejection->total = rejection->violations.size();
      rejection->truncated = false;
    }
  }
  return status;
}

grpc::Status ControlClient::Rollback(const v1::RollbackRequest& request,
                                     v1::ApplyResponse* response, Rejection* rejection) {
  grpc::ClientContext context;
  Prepare(&context, options_.timeout);
  grpc::Status status = stub_->Rollback(&context, request, response);
  if (rejection != nullptr) *rejection = CollectViolations(context, status);
  return status;
}

grpc::Status ControlClient::Validate(const v1::ValidateRequest& request,
                                     v1::ValidateResponse* response) {
  grpc::ClientContext context;
  Prepare(&context, options_.timeout);
  grpc::Status status = stub_->Validate(&context, request, response);
  if (status.error_code() == grpc::StatusCode::INVALID_ARGUMENT) {
    response->Clear();
    for (auto& v : CollectViolations(context, status).violations) {
      *response->add_violations() = std::move(v);
    }
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

void ControlClient::StartWatch(grpc::ClientContext* context, const v1::WatchRequest* request,
                               grpc::ClientReadReactor<v1::VersionEvent>* reactor) {
  Prepare(context, absl::InfiniteDuration());
  stub_->async()->Watch(context, request, reactor);
}

}  // namespace rwproxy::cli
