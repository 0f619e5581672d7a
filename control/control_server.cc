#include "control/control_server.h"

#include <utility>

#include "absl/strings/str_cat.h"

namespace rwproxy::control {

ControlServer::ControlServer(ConfigStore* store, ConfigTarget* target)
    : store_(store), target_(target) {}

ControlServer::~ControlServer() { Shutdown(); }

absl::StatusOr<std::string> ControlServer::Start(const std::string& address,
                                                 const std::string& token,
                                                 ControlService::LogFn log) {
  if (server_ != nullptr) return absl::FailedPreconditionError("control server already started");
  service_ = std::make_unique<ControlService>(store_, target_,
                                              ControlService::Options{token, std::move(log)});
  grpc::ServerBuilder builder;
  int selected_port = 0;
  builder.AddListeningPort(address, grpc::InsecureServerCredentials(), &selected_port);
  builder.RegisterService(service_.get());
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
