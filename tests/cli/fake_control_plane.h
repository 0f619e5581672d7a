// An in-process ControlPlane gRPC server for rwctl tests that must not depend on the real
// control service: it keeps a config and a version, applies with compare-and-swap, checks the
// bearer token, and can be told to reject every Apply (with or without the binary violations
// metadata), so each client path can be driven on purpose. Explain and GetClusters answer with
// canned responses set by the test.
//
// Ownership: the test owns a FakeControlPlane; it owns the grpc::Server (shut down in the
// destructor). Thread-safety: the setters and accessors may be called from the test thread while
// gRPC threads serve calls (a mutex guards the state).
#ifndef RWPROXY_TESTS_CLI_FAKE_CONTROL_PLANE_H_
#define RWPROXY_TESTS_CLI_FAKE_CONTROL_PLANE_H_

#include <condition_variable>
#include <memory>
#include <mutex>
#include <string>
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

 private:
  grpc::Status CheckToken(grpc::ServerContext* context);
  grpc::Status Rejection(grpc::ServerContext* context);

  std::mutex mu_;
  std::condition_variable changed_;
  std::string token_;
  Reject reject_ = Reject::kNone;
  std::vector<rwproxy::control::v1::FieldViolation> violations_;
  uint64_t version_ = 1;
  rwproxy::config::v1::Config config_;
  std::vector<std::string> descriptions_ = {"initial"};
  rwproxy::control::v1::ExplainResponse explain_;
  rwproxy::control::v1::GetClustersResponse clusters_;
  bool shutting_down_ = false;

  std::string address_;
  std::unique_ptr<grpc::Server> server_;
};

}  // namespace rwtest

#endif  // RWPROXY_TESTS_CLI_FAKE_CONTROL_PLANE_H_
