#include "tests/cli/fake_control_plane.h"

#include <chrono>

#include "absl/strings/str_cat.h"
#include "google/protobuf/util/message_differencer.h"

namespace rwtest {

namespace v1 = ::rwproxy::control::v1;

FakeControlPlane::FakeControlPlane() {
  grpc::ServerBuilder builder;
  int port = 0;
  builder.AddListeningPort("127.0.0.1:0", grpc::InsecureServerCredentials(), &port);
  builder.RegisterService(this);
  server_ = builder.BuildAndStart();
  address_ = absl::StrCat("127.0.0.1:", port);
}

FakeControlPlane::~FakeControlPlane() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    shutting_down_ = true;
  }
  changed_.notify_all();
  server_->Shutdown(std::chrono::system_clock::now() + std::chrono::seconds(1));
}

void FakeControlPlane::set_token(const std::string& token) {
  std::lock_guard<std::mutex> lock(mu_);
  token_ = token;
}

void FakeControlPlane::set_reject(Reject reject, std::vector<v1::FieldViolation> violations) {
  std::lock_guard<std::mutex> lock(mu_);
  reject_ = reject;
  violations_ = std::move(violations);
}

uint64_t FakeControlPlane::version() {
  std::lock_guard<std::mutex> lock(mu_);
  return version_;
}

std::vector<std::string> FakeControlPlane::descriptions() {
  std::lock_guard<std::mutex> lock(mu_);
  return descriptions_;
}

void FakeControlPlane::set_explain(v1::ExplainResponse response) {
  std::lock_guard<std::mutex> lock(mu_);
  explain_ = std::move(response);
}

void FakeControlPlane::set_clusters(v1::GetClustersResponse response) {
  std::lock_guard<std::mutex> lock(mu_);
  clusters_ = std::move(response);
}

// Called with mu_ held.
grpc::Status FakeControlPlane::CheckToken(grpc::ServerContext* context) {
  if (token_.empty()) return grpc::Status::OK;
  const auto& metadata = context->client_metadata();
  auto it = metadata.find("authorization");
  if (it == metadata.end() ||
      std::string(it->second.data(), it->second.size()) != "Bearer " + token_) {
    return grpc::Status(grpc::StatusCode::UNAUTHENTICATED, "missing or wrong bearer token");
  }
  return grpc::Status::OK;
}

// Called with mu_ held.
grpc::Status FakeControlPlane::Rejection(grpc::ServerContext* context) {
  std::string message;
  v1::ValidateResponse list;
  for (const auto& v : violations_) {
    absl::StrAppend(&message, message.empty() ? "" : "\n", v.field(), ": ", v.message());
    *list.add_violations() = v;
  }
  if (reject_ == Reject::kWithMetadata) {
    context->AddTrailingMetadata("rwproxy-violations-bin", list.SerializeAsString());
    // The metadata must win: make the message useless.
    message = "invalid config (see metadata)";
  }
  return grpc::Status(grpc::StatusCode::INVALID_ARGUMENT, message);
}

grpc::Status FakeControlPlane::Apply(grpc::ServerContext* context, const v1::ApplyRequest* request,
                                     v1::ApplyResponse* response) {
  std::unique_lock<std::mutex> lock(mu_);
  if (auto status = CheckToken(context); !status.ok()) return status;
  if (reject_ != Reject::kNone) return Rejection(context);
  if (request->has_expected_version() && request->expected_version() != version_) {
    return grpc::Status(
        grpc::StatusCode::FAILED_PRECONDITION,
        absl::StrCat("expected version ", request->expected_version(), ", live is ", version_));
  }
  bool same = google::protobuf::util::MessageDifferencer::Equals(config_, request->config());
  response->set_changed(!same);
  response->set_version(same ? version_ : version_ + 1);
  if (same || request->dry_run()) return grpc::Status::OK;
  config_ = request->config();
  ++version_;
  descriptions_.push_back(request->description());
  lock.unlock();
  changed_.notify_all();
  return grpc::Status::OK;
}

grpc::Status FakeControlPlane::Validate(grpc::ServerContext* context,
                                        const v1::ValidateRequest* request,
                                        v1::ValidateResponse* response) {
  std::lock_guard<std::mutex> lock(mu_);
  if (auto status = CheckToken(context); !status.ok()) return status;
  if (reject_ == Reject::kMessageOnly) return Rejection(context);
  if (reject_ == Reject::kWithMetadata) {
    for (const auto& v : violations_) *response->add_violations() = v;
  }
  return grpc::Status::OK;
}

grpc::Status FakeControlPlane::GetConfig(grpc::ServerContext* context,
                                         const v1::GetConfigRequest* request,
                                         v1::GetConfigResponse* response) {
  std::lock_guard<std::mutex> lock(mu_);
  if (auto status = CheckToken(context); !status.ok()) return status;
  response->set_version(version_);
  *response->mutable_config() = config_;
  response->set_content_hash("0123456789abcdef");
  return grpc::Status::OK;
}

grpc::Status FakeControlPlane::Watch(grpc::ServerContext* context, const v1::WatchRequest* request,
                                     grpc::ServerWriter<v1::VersionEvent>* writer) {
  std::unique_lock<std::mutex> lock(mu_);
  if (auto status = CheckToken(context); !status.ok()) return status;
  uint64_t sent = 0;
  while (!shutting_down_ && !context->IsCancelled()) {
    if (version_ != sent) {
      sent = version_;
      v1::VersionEvent event;
      event.mutable_version()->set_version(sent);
      event.mutable_version()->set_description(descriptions_.back());
      lock.unlock();
      bool ok = writer->Write(event);
      lock.lock();
      if (!ok) break;
    }
    // Wakes on a change; the timeout only bounds how late a cancellation is noticed.
    changed_.wait_for(lock, std::chrono::milliseconds(50));
  }
  return grpc::Status::OK;
}

grpc::Status FakeControlPlane::Explain(grpc::ServerContext* context, const v1::ExplainRequest*,
                                       v1::ExplainResponse* response) {
  std::lock_guard<std::mutex> lock(mu_);
  if (auto status = CheckToken(context); !status.ok()) return status;
  *response = explain_;
  return grpc::Status::OK;
}

grpc::Status FakeControlPlane::GetClusters(grpc::ServerContext* context,
                                           const v1::GetClustersRequest*,
                                           v1::GetClustersResponse* response) {
  std::lock_guard<std::mutex> lock(mu_);
  if (auto status = CheckToken(context); !status.ok()) return status;
  *response = clusters_;
  return grpc::Status::OK;
}

}  // namespace rwtest
