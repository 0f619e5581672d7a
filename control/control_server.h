// Serves the ControlService over gRPC on one address: "host:port" (port 0 picks one) or
// "unix:/path", with explicit message-size limits and keepalive (ControlLimits).
//
// Ownership: owned by main (or a test); owns the grpc::Server and the ControlService. The
// ConfigStore and the ConfigTarget must outlive it. Thread-safety: Start and Shutdown from one
// thread (main's); gRPC runs the service on its own threads.
#ifndef RWPROXY_CONTROL_CONTROL_SERVER_H_
#define RWPROXY_CONTROL_CONTROL_SERVER_H_

#include <chrono>
#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "control/config_store.h"
#include "control/control_service.h"
#include "grpcpp/grpcpp.h"

namespace rwproxy::control {

class ControlServer {
 public:
  ControlServer(ConfigStore* store, ConfigTarget* target);
  ~ControlServer();
  ControlServer(const ControlServer&) = delete;
  ControlServer& operator=(const ControlServer&) = delete;

  // Binds `address` and starts serving. Returns the bound address, with the port gRPC picked
  // ("127.0.0.1:41234", "[::1]:41234" or "unix:/path"). `token` empty: no authentication.
  // `limits`: message sizes and keepalive for the transport, queue and Watch bounds for the
  // service (control_service.h).
  absl::StatusOr<std::string> Start(const std::string& address, const std::string& token,
                                    ControlService::LogFn log = nullptr,
                                    const ControlLimits& limits = {});

  // The running service (null before Start and after Shutdown); for tests.
  ControlService* service() { return service_.get(); }

  // Ends Watch streams and waits for running calls (an Apply finishes its publish), then stops
  // gRPC. `grace` bounds only the transport teardown: gRPC waits that long for clients that keep
  // an idle channel open before it closes their connections. Idempotent.
  void Shutdown(std::chrono::milliseconds grace = std::chrono::milliseconds(500));

 private:
  ConfigStore* const store_;
  ConfigTarget* const target_;
  std::unique_ptr<ControlService> service_;
  std::unique_ptr<grpc::Server> server_;
};

}  // namespace rwproxy::control

#endif  // RWPROXY_CONTROL_CONTROL_SERVER_H_
