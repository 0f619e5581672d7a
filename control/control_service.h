// The gRPC service rwproxy.control.v1.ControlPlane (proto/control.proto) on the callback API.
// Calls that block (Apply, Rollback and Validate compile and may resolve names; Apply waits for
// every worker; GetStats and GetClusters collect from every worker) run on one task thread of
// their own, so gRPC's threads never block and mutations are serialized; the cheap reads answer
// inline.
//
// Auth: with a token, every call needs `authorization: Bearer <token>` (compared in constant
// time), else UNAUTHENTICATED. Errors: ToGrpcStatus maps absl::Status to grpc::Status and puts
// config violations into the "rwproxy-violations-bin" trailing metadata entry.
//
// Ownership: owned by ControlServer (or a test), registered with one grpc::Server, which must be
// shut down before the service is destroyed. Holds non-owning pointers to the ConfigStore and the
// ConfigTarget, which outlive it. Thread-safety: gRPC calls the handlers on its threads;
// Shutdown() from any thread.
#ifndef RWPROXY_CONTROL_CONTROL_SERVICE_H_
#define RWPROXY_CONTROL_CONTROL_SERVICE_H_

#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "absl/time/time.h"
#include "control/config_store.h"
#include "control/task_thread.h"
#include "control/watch_hub.h"
#include "grpcpp/grpcpp.h"
#include "proto/control.grpc.pb.h"
#include "server/config/config_target.h"

namespace rwproxy::control {

// Binary trailing metadata key carrying a serialized v1::ValidateResponse with every violation
// when Apply or Rollback fail with INVALID_ARGUMENT.
inline constexpr char kViolationsMetadataKey[] = "rwproxy-violations-bin";

// Same code and message; a violations payload (control/violations.h) becomes the
// kViolationsMetadataKey trailing metadata of `context` (when not null).
grpc::Status ToGrpcStatus(const absl::Status& status, grpc::CallbackServerContext* context);

// True when `a` equals `b`; the time taken depends only on their lengths.
bool ConstantTimeEquals(std::string_view a, std::string_view b);

class ControlService final : public v1::ControlPlane::CallbackService {
 public:
  using LogFn = std::function<void(const std::string&)>;
  struct Options {
    std::string token;  // empty: no authentication
    LogFn log;          // where mutating calls are logged (one line each); default: stderr
    // GetServerInfo: when the service started (uptime is counted from it) and the clock.
    absl::Time started = absl::Now();
    std::function<absl::Time()> now = [] { return absl::Now(); };
  };

  ControlService(ConfigStore* store, ConfigTarget* target, Options options);
  ~ControlService() override;

  // Ends every Watch stream and stops taking new blocking calls (they fail with UNAVAILABLE);
  // calls already queued still run. Call before grpc::Server::Shutdown().
  void Shutdown();

  grpc::ServerUnaryReactor* Apply(grpc::CallbackServerContext* context,
                                  const v1::ApplyRequest* request,
                                  v1::ApplyResponse* response) override;
  grpc::ServerUnaryReactor* Validate(grpc::CallbackServerContext* context,
                                     const v1::ValidateRequest* request,
                                     v1::ValidateResponse* response) override;
  grpc::ServerUnaryReactor* GetConfig(grpc::CallbackServerContext* context,
                                      const v1::GetConfigRequest* request,
                                      v1::GetConfigResponse* response) override;
  grpc::ServerUnaryReactor* ListVersions(grpc::CallbackServerContext* context,
                                         const v1::ListVersionsRequest* request,
                                         v1::ListVersionsResponse* response) override;
  grpc::ServerUnaryReactor* Rollback(grpc::CallbackServerContext* context,
                                     const v1::RollbackRequest* request,
                                     v1::ApplyResponse* response) override;
  grpc::ServerWriteReactor<v1::VersionEvent>* Watch(grpc::CallbackServerContext* context,
                                                    const v1::WatchRequest* request) override;
  grpc::ServerUnaryReactor* Explain(grpc::CallbackServerContext* context,
                                    const v1::ExplainRequest* request,
                                    v1::ExplainResponse* response) override;
  grpc::ServerUnaryReactor* GetStats(grpc::CallbackServerContext* context,
                                     const v1::GetStatsRequest* request,
                                     v1::GetStatsResponse* response) override;
  grpc::ServerUnaryReactor* GetClusters(grpc::CallbackServerContext* context,
                                        const v1::GetClustersRequest* request,
                                        v1::GetClustersResponse* response) override;
  grpc::ServerUnaryReactor* GetServerInfo(grpc::CallbackServerContext* context,
                                          const v1::GetServerInfoRequest* request,
                                          v1::GetServerInfoResponse* response) override;

 private:
  absl::Status Authorize(const grpc::CallbackServerContext* context) const;
  // Authorizes, then runs `work` on the task thread and finishes with the status it returns.
  grpc::ServerUnaryReactor* RunBlocking(grpc::CallbackServerContext* context,
                                        std::function<absl::Status()> work);
  // Runs the mutation and logs its outcome.
  absl::Status Mutate(std::string_view method, grpc::CallbackServerContext* context,
                      const std::string& description,
                      const std::function<absl::StatusOr<ApplyResult>()>& mutation,
                      v1::ApplyResponse* response);

  ConfigStore* const store_;
  ConfigTarget* const target_;
  const Options options_;
  WatchHub watches_;
  TaskThread tasks_;  // last: stopped (and joined) first
};

}  // namespace rwproxy::control

#endif  // RWPROXY_CONTROL_CONTROL_SERVICE_H_
