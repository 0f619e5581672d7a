// The gRPC client for rwproxy.control.v1.ControlPlane: one channel to one server, the bearer
// token as `authorization` metadata and a deadline on every call. The channel allows messages of
// max_message_bytes each way (a 50,000-route config is about 5 MB; gRPC's default receive limit
// is 4 MiB) and pings the server after keepalive_time without traffic while a call is open, so a
// `watch` notices a vanished server instead of waiting forever.
//
// Ownership: the command that talks to a server owns its ControlClient (fleet push: one per
// target, each owned by the thread that uses it). Thread-safety: the methods may be called from
// any thread, concurrently (the gRPC stub is thread-safe; each call has its own context).
#ifndef RWPROXY_CLI_CLIENT_H_
#define RWPROXY_CLI_CLIENT_H_

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "absl/time/time.h"
#include "cli/violations.h"
#include "grpcpp/generic/generic_stub.h"
#include "grpcpp/grpcpp.h"
#include "proto/control.grpc.pb.h"

namespace rwproxy::cli {

namespace v1 = ::rwproxy::control::v1;

struct ClientOptions {
  std::string server;                          // "host:port" or "unix:/path"
  std::string token;                           // "" sends no authorization metadata
  absl::Duration timeout = absl::Seconds(10);  // per call; InfiniteDuration() = no deadline
  int max_message_bytes = 64 * 1024 * 1024;    // each way; the server's default limit too
  // Keepalive pings while a call is open; rwproxy permits one every 10s (its default).
  absl::Duration keepalive_time = absl::Seconds(30);
  absl::Duration keepalive_timeout = absl::Seconds(10);
};

class ControlClient {
 public:
  explicit ControlClient(ClientOptions options);

  const std::string& server() const { return options_.server; }
  const ClientOptions& options() const { return options_; }

  // Apply and Rollback fill *rejection (when not null) for a rejected config; see violations.h.
  // When the server sent only the first violations, Apply fetches every one with Validate (on
  // the same config), so *rejection is complete unless that call fails; Rollback has no config
  // to validate and keeps the first ones (rejection->truncated).
  grpc::Status Apply(const v1::ApplyRequest& request, v1::ApplyResponse* response,
                     Rejection* rejection);
  // Apply with the request already serialized (`serialized` holds `request`'s bytes): a fleet
  // push serializes its config once and shares the buffer between targets. `request` is only
  // read to fetch every violation with Validate when the server sent the first ones.
  grpc::Status ApplySerialized(const grpc::ByteBuffer& serialized, const v1::ApplyRequest& request,
                               v1::ApplyResponse* response, Rejection* rejection);
  grpc::Status Rollback(const v1::RollbackRequest& request, v1::ApplyResponse* response,
                        Rejection* rejection);
  // A Validate that ends with INVALID_ARGUMENT instead of an OK ValidateResponse is folded into
  // response->violations, so callers see one shape.
  grpc::Status Validate(const v1::ValidateRequest& request, v1::ValidateResponse* response);
  grpc::Status GetConfig(v1::GetConfigResponse* response);
  grpc::Status ListVersions(uint32_t limit, v1::ListVersionsResponse* response);
  grpc::Status Explain(const v1::ExplainRequest& request, v1::ExplainResponse* response);
  grpc::Status GetStats(v1::GetStatsResponse* response);
  grpc::Status GetClusters(v1::GetClustersResponse* response);
  grpc::Status GetServerInfo(v1::GetServerInfoResponse* response);

  // Streams version events to `on_event` until it returns false (the stream is then cancelled
  // and OK returned), the stream ends or `timeout` passes (DEADLINE_EXCEEDED; InfiniteDuration
  // = none). With `wait_for_ready` the call waits for an unreachable server instead of failing.
  grpc::Status Watch(absl::Duration timeout, bool wait_for_ready,
                     const std::function<bool(const v1::VersionEvent&)>& on_event);
  // Starts a Watch on `reactor` (callback API; no thread of ours blocks on it). `context` gets the
  // token and no deadline; the caller cancels it. See cli/verdict_watch.h.
  void StartWatch(grpc::ClientContext* context, const v1::WatchRequest* request,
                  grpc::ClientReadReactor<v1::VersionEvent>* reactor);

  // `request` serialized once, to share between the targets of a fleet push.
  static grpc::ByteBuffer Serialize(const v1::ApplyRequest& request);

 private:
  void Prepare(grpc::ClientContext* context, absl::Duration timeout) const;

  grpc::Status FinishApply(const grpc::ClientContext& context, const grpc::Status& status,
                           const v1::ApplyRequest& request, Rejection* rejection);

  ClientOptions options_;
  std::shared_ptr<grpc::Channel> channel_;
  std::unique_ptr<v1::ControlPlane::Stub> stub_;
};

}  // namespace rwproxy::cli

#endif  // RWPROXY_CLI_CLIENT_H_
