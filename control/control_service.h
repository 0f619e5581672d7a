// The gRPC service rwproxy.control.v1.ControlPlane (proto/control.proto) on the callback API.
// Calls that block (Apply, Rollback and Validate compile and may resolve names; Apply waits for
// every worker; GetStats and GetClusters collect from every worker) run on one task thread of
// their own, so gRPC's threads never block and mutations are serialized; the cheap reads answer
// inline.
//
// Liveness: at most limits.max_queued_calls calls wait for the task thread (more:
// RESOURCE_EXHAUSTED). A queued call whose client cancelled it or whose deadline passed is
// finished with CANCELLED / DEADLINE_EXCEEDED when its turn comes, without running (nothing is
// applied). At most limits.max_watch_streams Watch streams are open at once (more:
// RESOURCE_EXHAUSTED). No handler lets an exception escape: it becomes INTERNAL and is logged.
//
// Auth: with a token, every call needs `authorization: Bearer <token>` (compared in constant
// time), else UNAUTHENTICATED. Errors: ToGrpcStatus maps absl::Status to grpc::Status: a short
// message, and config violations in the status details (control/violations.h).
//
// Ownership: owned by ControlServer (or a test), registered with one grpc::Server, which must be
// shut down before the service is destroyed. Holds non-owning pointers to the ConfigStore and the
// ConfigTarget, which outlive it. Thread-safety: gRPC calls the handlers on its threads;
// Shutdown(), QueuedCalls() and OpenWatchStreams() from any thread.
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

// The same code. A status with a violations payload (control/violations.h) gets a one-line
// summary as its message and the first violations (bounded, with their total) as its details
// (grpc-status-details-bin); any other message is cut to kMaxStatusMessageBytes. Together the
// trailers stay within kMaxTrailerBytes, whatever the number of violations.
grpc::Status ToGrpcStatus(const absl::Status& status);

// The limits of the control API. ControlServer applies the transport ones; the service the rest.
struct ControlLimits {
  // The largest request or response message, each way (a 50,000-route config is about 5 MB).
  int max_message_bytes = 64 * 1024 * 1024;
  // Calls waiting for the task thread (Apply, Rollback, Validate, GetStats, GetClusters), not
  // counting the one running; more get RESOURCE_EXHAUSTED.
  size_t max_queued_calls = 64;
  // Concurrent Watch streams; more get RESOURCE_EXHAUSTED.
  size_t max_watch_streams = 64;
  // The server pings a connection with open calls (an idle Watch stream) after this long without
  // traffic, and closes it when the ping is not answered within keepalive_timeout.
  absl::Duration keepalive_time = absl::Seconds(30);
  absl::Duration keepalive_timeout = absl::Seconds(10);
  // Clients may ping this often at most (rwctl pings every 30s); a client that pings more often
  // is sent GOAWAY ("too_many_pings").
  absl::Duration min_client_ping_interval = absl::Seconds(10);
};

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
    ControlLimits limits;
  };

  ControlService(ConfigStore* store, ConfigTarget* target, Options options);
  ~ControlService() override;

  // Ends every Watch stream and stops taking new blocking calls (they fail with UNAVAILABLE);
  // calls already queued still run (unless cancelled or past their deadline). Call before
  // grpc::Server::Shutdown().
  void Shutdown();

  // Calls waiting for the task thread (not counting the one running).
  size_t QueuedCalls() const { return tasks_.queued(); }
  // Watch streams open now.
  size_t OpenWatchStreams() { return watches_.open_streams(); }

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
  class BlockingCall;
  class RefusedWatch;
  absl::Status Authorize(const grpc::CallbackServerContext* context) const;
  // Authorizes, then runs `work` on the task thread (unless the call was cancelled or its
  // deadline passed meanwhile) and finishes with the status it returns.
  grpc::ServerUnaryReactor* RunBlocking(const char* method, grpc::CallbackServerContext* context,
                                        std::function<absl::Status()> work);
  // Authorizes, runs `work` at once and finishes with the status it returns.
  grpc::ServerUnaryReactor* RunInline(const char* method, grpc::CallbackServerContext* context,
                                      const std::function<absl::Status()>& work);
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
