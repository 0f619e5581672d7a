// An in-process ControlPlane gRPC server for rwctl tests that must not depend on the real
// control service: it keeps a history of configs (version 1: empty, source "boot"), applies with
// compare-and-swap, rolls back, lists versions with their source and the caller's address,
// checks the bearer token, and can be told to reject every Apply (with or without the binary
// violations metadata), so each client path can be driven on purpose. Explain, GetClusters,
// GetStats and GetServerInfo answer with canned responses set by the test; GetStats adds
// `stats_step` to every cluster counter after each call, so samples differ.
//
// Ownership: the test owns a FakeControlPlane; it owns the grpc::Server (shut down in the
// destructor). Thread-safety: the setters and accessors may be called from the test thread while
// gRPC threads serve calls (a mutex guards the state).
#ifndef RWPROXY_TESTS_CLI_FAKE_CONTROL_PLANE_H_
#define RWPROXY_TESTS_CLI_FAKE_CONTROL_PLANE_H_

#include <chrono>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "grpcpp/grpcpp.h"
#include "proto/control.grpc.pb.h"

namespace rwtest {

class FakeControlPlane final : public rwproxy::control::v1::ControlPlane::Service {
 public:
  enum class Reject { kNone, kWithMetadata, kMessageOnly };

  FakeControlPlane();
  ~FakeControlPlane() override;

  // "127.0.0.1:PORT".
  const std::string& address() const { return address_; }

  void set_token(const std::string& token);
  // Every Apply/Validate reports these violations.
  void set_reject(Reject reject, std::vector<rwproxy::control::v1::FieldViolation> violations);
  uint64_t version();
  std::vector<std::string> descriptions();  // of every applied version, oldest first
  void set_explain(rwproxy::control::v1::ExplainResponse response);
  void set_clusters(rwproxy::control::v1::GetClustersResponse response);
  void set_stats(rwproxy::control::v1::GetStatsResponse response, uint64_t stats_step);
  int stats_calls();
  // false: GetServerInfo fails with UNIMPLEMENTED, like a server that predates it.
  void set_server_info(bool implemented);
  // Not OK: GetConfig and Explain fail with it.
  void set_read_error(grpc::Status status);
  // The server_version GetServerInfo reports.
  static constexpr char kServerVersion[] = "9.8.7-fake";
  // The content_hash of version `version`.
  static std::string HashOf(uint64_t version);

  // Decides the pending guard: `verdict` supplies the outcome and counts; the fake fills in the
  // guard's parameters, elapsed_ms and, for REVERTED, restored/revert_version. False when no
  // guard is pending.
  bool DecideGuard(rwproxy::control::v1::GuardVerdict verdict);
  // The version whose guard is pending (0: none).
  uint64_t guard_pending();
  // Every later guard is decided with `verdict` `delay` after its apply (nullopt: by DecideGuard
  // only, the default). A delay of 0 decides inside Apply, before the response is sent.
  void set_auto_verdict(std::optional<rwproxy::control::v1::GuardVerdict> verdict,
                        std::chrono::milliseconds delay);
  // false: ignore guards, like a server that predates them (ApplyResponse.guard NONE).
  void set_guard_supported(bool supported);
  // true: Watch fails at once with UNAVAILABLE (rwctl must poll ListVersions).
  void set_watch_broken(bool broken);
  std::vector<rwproxy::control::v1::ApplyRequest> applies();  // every Apply received, in order
  std::vector<rwproxy::control::v1::RollbackRequest> rollbacks();  // every Rollback received
  int list_versions_calls();

  grpc::Status Apply(grpc::ServerContext* context,
                     const rwproxy::control::v1::ApplyRequest* request,
                     rwproxy::control::v1::ApplyResponse* response) override;
  grpc::Status Validate(grpc::ServerContext* context,
                        const rwproxy::control::v1::ValidateRequest* request,
                        rwproxy::control::v1::ValidateResponse* response) override;
  grpc::Status GetConfig(grpc::ServerContext* context,
                         const rwproxy::control::v1::GetConfigRequest* request,
                         rwproxy::control::v1::GetConfigResponse* response) override;
  grpc::Status Watch(grpc::ServerContext* context,
                     const rwproxy::control::v1::WatchRequest* request,
                     grpc::ServerWriter<rwproxy::control::v1::VersionEvent>* writer) override;
  grpc::Status Explain(grpc::ServerContext* context,
                       const rwproxy::control::v1::ExplainRequest* request,
                       rwproxy::control::v1::ExplainResponse* response) override;
  grpc::Status GetClusters(grpc::ServerContext* context,
                           const rwproxy::control::v1::GetClustersRequest* request,
                           rwproxy::control::v1::GetClustersResponse* response) override;
  grpc::Status GetStats(grpc::ServerContext* context,
                        const rwproxy::control::v1::GetStatsRequest* request,
                        rwproxy::control::v1::GetStatsResponse* response) override;
  grpc::Status GetServerInfo(grpc::ServerContext* context,
                             const rwproxy::control::v1::GetServerInfoRequest* request,
                             rwproxy::control::v1::GetServerInfoResponse* response) override;
  grpc::Status Rollback(grpc::ServerContext* context,
                        const rwproxy::control::v1::RollbackRequest* request,
                        rwproxy::control::v1::ApplyResponse* response) override;
  grpc::Status ListVersions(grpc::ServerContext* context,
                            const rwproxy::control::v1::ListVersionsRequest* request,
                            rwproxy::control::v1::ListVersionsResponse* response) override;

 private:
  grpc::Status CheckToken(grpc::ServerContext* context);
  grpc::Status Rejection(grpc::ServerContext* context);
  // Decides the pending guard (mu_ held).
  void DecideLocked(rwproxy::control::v1::GuardVerdict verdict);
  // Appends a version (mu_ held).
  void AddVersion(const rwproxy::config::v1::Config& config, const std::string& description,
                  const std::string& source, const std::string& peer);

  struct Entry {
    rwproxy::config::v1::Config config;
    rwproxy::control::v1::VersionInfo info;
  };

  std::mutex mu_;
  std::condition_variable changed_;
  std::string token_;
  Reject reject_ = Reject::kNone;
  std::vector<rwproxy::control::v1::FieldViolation> violations_;
  uint64_t version_ = 0;  // the newest entry of history_
  rwproxy::config::v1::Config config_;
  std::vector<Entry> history_;  // oldest first
  rwproxy::control::v1::ExplainResponse explain_;
  rwproxy::control::v1::GetClustersResponse clusters_;
  rwproxy::control::v1::GetStatsResponse stats_;
  uint64_t stats_step_ = 0;
  int stats_calls_ = 0;
  bool server_info_ = true;
  grpc::Status read_error_;
  bool shutting_down_ = false;

  // Guards. events_: every VersionInfo a Watch stream sends after its first event, in order.
  std::vector<rwproxy::control::v1::VersionInfo> events_;
  uint64_t guard_pending_ = 0;
  std::chrono::steady_clock::time_point guard_started_;
  std::optional<rwproxy::control::v1::GuardVerdict> auto_verdict_;
  std::chrono::milliseconds auto_delay_{0};
  std::vector<std::thread> deciders_;  // joined in the destructor
  bool guard_supported_ = true;
  bool watch_broken_ = false;
  std::vector<rwproxy::control::v1::ApplyRequest> applies_;
  std::vector<rwproxy::control::v1::RollbackRequest> rollbacks_;
  int list_versions_calls_ = 0;

  std::string address_;
  std::unique_ptr<grpc::Server> server_;
};

}  // namespace rwtest

#endif  // RWPROXY_TESTS_CLI_FAKE_CONTROL_PLANE_H_
