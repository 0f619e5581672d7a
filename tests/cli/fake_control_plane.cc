#include "tests/cli/fake_control_plane.h"

#include <chrono>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "google/protobuf/util/message_differencer.h"

namespace rwtest {

namespace v1 = ::rwproxy::control::v1;

FakeControlPlane::FakeControlPlane() {
  AddVersion({}, "initial", "boot", "");
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
  std::vector<std::string> out;
  for (const Entry& entry : history_) out.push_back(entry.info.description());
  return out;
}

void FakeControlPlane::AddVersion(const rwproxy::config::v1::Config& config,
                                  const std::string& description, const std::string& source,
                                  const std::string& peer) {
  Entry& entry = history_.emplace_back();
  entry.config = config;
  entry.info.set_version(++version_);
  entry.info.set_applied_unix_ms(1714557600000 + static_cast<int64_t>(version_) * 1000);
  entry.info.set_content_hash(HashOf(version_));
  entry.info.set_description(description);
  entry.info.set_source(source);
  entry.info.set_peer(peer);
  config_ = config;
}

std::string FakeControlPlane::HashOf(uint64_t version) {
  return absl::StrFormat("%016x", version * 0x1111);
}

void FakeControlPlane::set_explain(v1::ExplainResponse response) {
  std::lock_guard<std::mutex> lock(mu_);
  explain_ = std::move(response);
}

void FakeControlPlane::set_clusters(v1::GetClustersResponse response) {
  std::lock_guard<std::mutex> lock(mu_);
  clusters_ = std::move(response);
}

void FakeControlPlane::set_stats(v1::GetStatsResponse response, uint64_t stats_step) {
  std::lock_guard<std::mutex> lock(mu_);
  stats_ = std::move(response);
  stats_step_ = stats_step;
}

int FakeControlPlane::stats_calls() {
  std::lock_guard<std::mutex> lock(mu_);
  return stats_calls_;
}

void FakeControlPlane::set_server_info(bool implemented) {
  std::lock_guard<std::mutex> lock(mu_);
  server_info_ = implemented;
}

void FakeControlPlane::set_read_error(grpc::Status status) {
  std::lock_guard<std::mutex> lock(mu_);
  read_error_ = std::move(status);
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
  response->set_content_hash(HashOf(response->version()));
  if (same || request->dry_run()) return grpc::Status::OK;
  AddVersion(request->config(), request->description(), "api", context->peer());
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
  if (!read_error_.ok()) return read_error_;
  response->set_version(version_);
  *response->mutable_config() = config_;
  response->set_content_hash(HashOf(version_));
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
      *event.mutable_version() = history_.back().info;
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
  if (!read_error_.ok()) return read_error_;
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

grpc::Status FakeControlPlane::GetStats(grpc::ServerContext* context, const v1::GetStatsRequest*,
                                        v1::GetStatsResponse* response) {
  std::lock_guard<std::mutex> lock(mu_);
  if (auto status = CheckToken(context); !status.ok()) return status;
  *response = stats_;
  response->set_version(version_);
  ++stats_calls_;
  for (auto& cluster : *stats_.mutable_clusters()) {
    for (auto& [name, value] : *cluster.mutable_counters()) value += stats_step_;
  }
  return grpc::Status::OK;
}

grpc::Status FakeControlPlane::GetServerInfo(grpc::ServerContext* context,
                                             const v1::GetServerInfoRequest*,
                                             v1::GetServerInfoResponse* response) {
  std::lock_guard<std::mutex> lock(mu_);
  if (auto status = CheckToken(context); !status.ok()) return status;
  if (!server_info_) return grpc::Status(grpc::StatusCode::UNIMPLEMENTED, "not implemented");
  response->set_server_version(kServerVersion);
  response->set_started_unix_ms(1714557600000);
  response->set_uptime_seconds(3723);
  response->set_config_version(version_);
  return grpc::Status::OK;
}

grpc::Status FakeControlPlane::Rollback(grpc::ServerContext* context,
                                        const v1::RollbackRequest* request,
                                        v1::ApplyResponse* response) {
  std::unique_lock<std::mutex> lock(mu_);
  if (auto status = CheckToken(context); !status.ok()) return status;
  if (request->has_expected_version() && request->expected_version() != version_) {
    return grpc::Status(
        grpc::StatusCode::FAILED_PRECONDITION,
        absl::StrCat("expected version ", request->expected_version(), ", live is ", version_));
  }
  const Entry* found = nullptr;
  for (const Entry& entry : history_) {
    if (entry.info.version() == request->version()) found = &entry;
  }
  if (found == nullptr) {
    return grpc::Status(grpc::StatusCode::NOT_FOUND,
                        absl::StrCat("version ", request->version(), " is not in the history"));
  }
  const rwproxy::config::v1::Config config = found->config;
  if (google::protobuf::util::MessageDifferencer::Equals(config_, config)) {
    response->set_version(version_);
    response->set_content_hash(HashOf(version_));
    return grpc::Status::OK;
  }
  AddVersion(config,
             request->description().empty()
                 ? absl::StrCat("rollback to version ", request->version())
                 : request->description(),
             "rollback", context->peer());
  response->set_version(version_);
  response->set_changed(true);
  response->set_content_hash(HashOf(version_));
  lock.unlock();
  changed_.notify_all();
  return grpc::Status::OK;
}

grpc::Status FakeControlPlane::ListVersions(grpc::ServerContext* context,
                                            const v1::ListVersionsRequest* request,
                                            v1::ListVersionsResponse* response) {
  std::lock_guard<std::mutex> lock(mu_);
  if (auto status = CheckToken(context); !status.ok()) return status;
  for (auto it = history_.rbegin(); it != history_.rend(); ++it) {
    if (request->limit() != 0 && response->versions_size() >= static_cast<int>(request->limit())) {
      break;
    }
    *response->add_versions() = it->info;
  }
  return grpc::Status::OK;
}

}  // namespace rwtest
