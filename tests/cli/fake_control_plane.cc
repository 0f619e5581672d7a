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
  for (auto& thread : deciders_) thread.join();
  server_->Shutdown(std::chrono::system_clock::now() + std::chrono::seconds(1));
}

bool FakeControlPlane::DecideGuard(v1::GuardVerdict verdict) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (guard_pending_ == 0) return false;
    DecideLocked(std::move(verdict));
  }
  changed_.notify_all();
  return true;
}

void FakeControlPlane::DecideLocked(v1::GuardVerdict verdict) {
  const uint64_t guarded = guard_pending_;
  guard_pending_ = 0;
  size_t at = 0;
  while (history_[at].info.version() != guarded) ++at;
  v1::GuardVerdict full = history_[at].info.guard();  // PENDING with the parameters
  const v1::GuardVerdict::Outcome outcome = verdict.outcome();
  verdict.set_duration(full.duration());
  verdict.set_max_error_ratio(full.max_error_ratio());
  verdict.set_min_requests(full.min_requests());
  verdict.set_elapsed_ms(std::chrono::duration_cast<std::chrono::milliseconds>(
                             std::chrono::steady_clock::now() - guard_started_)
                             .count());
  verdict.set_outcome(outcome);
  if (outcome == v1::GuardVerdict::REVERTED) {
    verdict.set_restored_version(history_[at - 1].info.version());
    const auto config = history_[at - 1].config;
    AddVersion(config, absl::StrCat("guard: reverted version ", guarded), "guard", "");
    verdict.set_revert_version(version_);
  }
  for (Entry& entry : history_) {
    if (entry.info.version() == guarded) {
      *entry.info.mutable_guard() = verdict;
      events_.push_back(entry.info);
    }
  }
}

uint64_t FakeControlPlane::guard_pending() {
  std::lock_guard<std::mutex> lock(mu_);
  return guard_pending_;
}

void FakeControlPlane::set_auto_verdict(std::optional<v1::GuardVerdict> verdict,
                                        std::chrono::milliseconds delay) {
  std::lock_guard<std::mutex> lock(mu_);
  auto_verdict_ = std::move(verdict);
  auto_delay_ = delay;
}

void FakeControlPlane::set_guard_supported(bool supported) {
  std::lock_guard<std::mutex> lock(mu_);
  guard_supported_ = supported;
}

void FakeControlPlane::set_watch_broken(bool broken) {
  std::lock_guard<std::mutex> lock(mu_);
  watch_broken_ = broken;
}

std::vector<v1::ApplyRequest> FakeControlPlane::applies() {
  std::lock_guard<std::mutex> lock(mu_);
  return applies_;
}

std::vector<v1::RollbackRequest> FakeControlPlane::rollbacks() {
  std::lock_guard<std::mutex> lock(mu_);
  return rollbacks_;
}

int FakeControlPlane::list_versions_calls() {
  std::lock_guard<std::mutex> lock(mu_);
  return list_versions_calls_;
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
  events_.push_back(entry.info);
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
  applies_.push_back(*request);
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
  if (guard_pending_ != 0) {
    v1::GuardVerdict superseded;
    superseded.set_outcome(v1::GuardVerdict::SUPERSEDED);
    DecideLocked(superseded);
  }
  AddVersion(request->config(), request->description(), "api", context->peer());
  if (guard_supported_ && !request->guard().duration().empty()) {
    v1::GuardVerdict pending;
    pending.set_outcome(v1::GuardVerdict::PENDING);
    pending.set_duration(request->guard().duration());
    pending.set_max_error_ratio(request->guard().has_max_error_ratio()
                                    ? request->guard().max_error_ratio()
                                    : 0.01);
    pending.set_min_requests(
        request->guard().has_min_requests() ? request->guard().min_requests() : 100);
    *history_.back().info.mutable_guard() = pending;
    events_.back() = history_.back().info;
    *response->mutable_guard() = pending;
    guard_pending_ = version_;
    guard_started_ = std::chrono::steady_clock::now();
    if (auto_verdict_ && auto_delay_.count() == 0) {
      DecideLocked(*auto_verdict_);  // before the response: only an open Watch sees it
    } else if (auto_verdict_) {
      deciders_.emplace_back([this, verdict = *auto_verdict_, version = version_,
                              at = guard_started_ + auto_delay_] {
        std::unique_lock<std::mutex> lock(mu_);
        changed_.wait_until(lock, at, [&] { return shutting_down_; });
        if (shutting_down_ || guard_pending_ != version) return;
        DecideLocked(verdict);
        lock.unlock();
        changed_.notify_all();
      });
    }
  }
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
  if (watch_broken_) return grpc::Status(grpc::StatusCode::UNAVAILABLE, "watch broken (test)");
  // The live version first, then every event after it.
  v1::VersionEvent event;
  *event.mutable_version() = history_.back().info;
  size_t next = events_.size();
  for (;;) {
    lock.unlock();
    bool ok = writer->Write(event);
    lock.lock();
    if (!ok) break;
    // Wakes on a change; the timeout only bounds how late a cancellation is noticed.
    while (next == events_.size() && !shutting_down_ && !context->IsCancelled()) {
      changed_.wait_for(lock, std::chrono::milliseconds(50));
    }
    if (next == events_.size()) break;
    *event.mutable_version() = events_[next++];
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
  rollbacks_.push_back(*request);
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
  if (guard_pending_ != 0) {
    v1::GuardVerdict superseded;
    superseded.set_outcome(v1::GuardVerdict::SUPERSEDED);
    DecideLocked(superseded);
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
  ++list_versions_calls_;
  for (auto it = history_.rbegin(); it != history_.rend(); ++it) {
    if (request->limit() != 0 && response->versions_size() >= static_cast<int>(request->limit())) {
      break;
    }
    *response->add_versions() = it->info;
  }
  return grpc::Status::OK;
}

}  // namespace rwtest
