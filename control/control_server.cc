#include "control/control_server.h"

#include <algorithm>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "grpcpp/support/server_interceptor.h"
#include "server/log/log.h"
#include "server/util/sv.h"

namespace rwproxy::control {
namespace {

// Logs every call that fails, whatever failed it (authentication, validation, a stale expected
// version, shutdown): "Apply failed: INVALID_ARGUMENT: <first line> (peer ...)" at warn; a
// cancelled call (the end of a Watch stream) at debug. Metadata is never logged, so neither is
// a token.
class FailureLog : public grpc::experimental::Interceptor {
 public:
  explicit FailureLog(grpc::experimental::ServerRpcInfo* info) : info_(info) {}

  void Intercept(grpc::experimental::InterceptorBatchMethods* methods) override {
    if (methods->QueryInterceptionHookPoint(
            grpc::experimental::InterceptionHookPoints::PRE_SEND_STATUS)) {
      if (grpc::Status status = methods->GetSendStatus(); !status.ok()) Log(status);
    }
    methods->Proceed();
  }

 private:
  void Log(const grpc::Status& status) const {
    const log::Level level =
        status.error_code() == grpc::StatusCode::CANCELLED ? log::Level::kDebug : log::Level::kWarn;
    if (!log::Enabled(level)) return;
    std::string_view method = info_->method();    // "/rwproxy.control.v1.ControlPlane/Apply"
    method.remove_prefix(method.rfind('/') + 1);  // npos + 1 == 0
    const std::string& message = status.error_message();
    const size_t end = message.find('\n');
    std::string line = absl::StrCat(Sv(method), " failed: ", CodeName(status.error_code()), ": ",
                                    Sv(std::string_view(message).substr(0, end)));
    if (end != std::string::npos) {
      const auto more = std::count(message.begin(), message.end(), '\n');
      absl::StrAppend(&line, " (+", more, more == 1 ? " more line)" : " more lines)");
    }
    absl::StrAppend(&line, " (peer ", info_->server_context()->peer(), ")");
    log::Write(level, "control", line);
  }

  // grpc::StatusCode and absl::StatusCode share their numbering (google.rpc.Code).
  static std::string CodeName(grpc::StatusCode code) {
    return absl::StatusCodeToString(static_cast<absl::StatusCode>(code));
  }

  grpc::experimental::ServerRpcInfo* const info_;
};

class FailureLogFactory : public grpc::experimental::ServerInterceptorFactoryInterface {
 public:
  grpc::experimental::Interceptor* CreateServerInterceptor(
      grpc::experimental::ServerRpcInfo* info) override {
    return new FailureLog(info);
  }
};

int Millis(absl::Duration d) {
  return static_cast<int>(std::clamp<int64_t>(absl::ToInt64Milliseconds(d), 1, INT32_MAX));
}

// Message sizes both ways, and keepalive: the server pings a connection with open calls (an idle
// Watch stream) every keepalive_time and drops it when a ping goes unanswered, so a vanished
// client frees its Watch slot; clients may ping every min_client_ping_interval (rwctl's Watch
// pings every 30s; gRPC's default would answer that with GOAWAY too_many_pings).
void ApplyTransportLimits(const ControlLimits& limits, grpc::ServerBuilder* builder) {
  builder->SetMaxReceiveMessageSize(limits.max_message_bytes);
  builder->SetMaxSendMessageSize(limits.max_message_bytes);
  builder->AddChannelArgument(GRPC_ARG_KEEPALIVE_TIME_MS, Millis(limits.keepalive_time));
  builder->AddChannelArgument(GRPC_ARG_KEEPALIVE_TIMEOUT_MS, Millis(limits.keepalive_timeout));
  builder->AddChannelArgument(GRPC_ARG_KEEPALIVE_PERMIT_WITHOUT_CALLS, 0);
  // Keep pinging an idle stream, however long it sends no data.
  builder->AddChannelArgument(GRPC_ARG_HTTP2_MAX_PINGS_WITHOUT_DATA, 0);
  builder->AddChannelArgument(GRPC_ARG_HTTP2_MIN_RECV_PING_INTERVAL_WITHOUT_DATA_MS,
                              Millis(limits.min_client_ping_interval));
}

}  // namespace

ControlServer::ControlServer(ConfigStore* store, ConfigTarget* target)
    : store_(store), target_(target) {}

ControlServer::~ControlServer() { Shutdown(); }

absl::StatusOr<std::string> ControlServer::Start(const std::string& address,
                                                 const std::string& token,
                                                 ControlService::LogFn log,
                                                 const ControlLimits& limits) {
  if (server_ != nullptr) return absl::FailedPreconditionError("control server already started");
  ControlService::Options options;
  options.token = token;
  options.log = std::move(log);
  options.limits = limits;
  service_ = std::make_unique<ControlService>(store_, target_, std::move(options));
  grpc::ServerBuilder builder;
  int selected_port = 0;
  builder.AddListeningPort(address, grpc::InsecureServerCredentials(), &selected_port);
  ApplyTransportLimits(limits, &builder);
  builder.RegisterService(service_.get());
  std::vector<std::unique_ptr<grpc::experimental::ServerInterceptorFactoryInterface>> interceptors;
  interceptors.push_back(std::make_unique<FailureLogFactory>());
  builder.experimental().SetInterceptorCreators(std::move(interceptors));
  server_ = builder.BuildAndStart();
  if (server_ == nullptr || selected_port == 0) {
    if (server_ != nullptr) server_->Shutdown();
    server_.reset();
    service_.reset();
    return absl::UnavailableError(absl::StrCat("cannot serve the control API on ", address));
  }
  if (address.starts_with("unix:")) return address;
  const size_t colon = address.rfind(':');
  return absl::StrCat(address.substr(0, colon), ":", selected_port);
}

void ControlServer::Shutdown(std::chrono::milliseconds grace) {
  if (server_ == nullptr) return;
  service_->Shutdown();
  server_->Shutdown(std::chrono::system_clock::now() + grace);
  server_->Wait();
  server_.reset();
  service_.reset();
}

}  // namespace rwproxy::control
