// Shared by the control service tests: a ControlServer on 127.0.0.1:0 over a ConfigStore and a
// fake data plane (FakeConfigTarget), a client stub, and the config most tests apply.
//
// Ownership: gtest owns the fixture. Thread-safety: the test thread; the log callback locks.
#ifndef RWPROXY_TESTS_CONTROL_CONTROL_SERVICE_FIXTURE_H_
#define RWPROXY_TESTS_CONTROL_CONTROL_SERVICE_FIXTURE_H_

#include <chrono>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "control/control_server.h"
#include "control/control_service.h"
#include "grpcpp/grpcpp.h"
#include "gtest/gtest.h"
#include "config/config_yaml.h"
#include "proto/control.grpc.pb.h"
#include "tests/control/fake_config_target.h"

namespace rwproxy::control {

using config::v1::Config;

inline constexpr char kToken[] = "s3cret-token";

inline Config Parse(const std::string& text) {
  Config config;
  std::vector<yaml::YamlError> errors;
  EXPECT_TRUE(yaml::ParseConfig(text, &config, nullptr, &errors)) << text;
  return config;
}

inline constexpr char kConfig[] = R"(clusters:
  - {name: app, endpoints: ["127.0.0.1:8080"]}
  - {name: pool, endpoints: ["127.0.0.1:9001", "127.0.0.1:9002"], lb_policy: least_request}
routes:
  - name: docs
    match: {path_prefix: /docs/}
    redirect: {location: "https://docs.example.com$0", status: 301}
  - name: api
    match: {path_regex: "^/api/(.*)$", methods: [GET]}
    rewrite: {path: "/v2/$1", host: internal.example}
    cluster: app
  - name: many
    match: {path_prefix: /many/}
    rewrite: {prefix: /}
    cluster: pool
  - name: deny
    match: {path_prefix: /admin}
    respond: {status: 403, body: "no\n"}
)";

// A ControlServer on 127.0.0.1:0 over a ConfigStore and a fake data plane, plus a client stub.
class ControlServiceTest : public ::testing::Test {
 protected:
  void Start(const std::string& token = "") {
    ASSERT_TRUE(store_.Apply(Parse(kConfig), {.description = "initial"}).ok());
    auto address = server_.Start("127.0.0.1:0", token, [this](const std::string& line) {
      std::lock_guard<std::mutex> lock(log_mu_);
      log_.push_back(line);
    });
    ASSERT_TRUE(address.ok()) << address.status();
    ASSERT_TRUE(address->starts_with("127.0.0.1:")) << *address;
    ASSERT_NE(*address, "127.0.0.1:0");
    stub_ = v1::ControlPlane::NewStub(
        grpc::CreateChannel(*address, grpc::InsecureChannelCredentials()));
  }

  // A client context with a deadline (so a broken server fails the test instead of hanging) and,
  // when given, the authorization metadata.
  static std::unique_ptr<grpc::ClientContext> Context(const std::string& authorization = "") {
    auto context = std::make_unique<grpc::ClientContext>();
    context->set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(20));
    if (!authorization.empty()) context->AddMetadata("authorization", authorization);
    return context;
  }

  std::vector<std::string> Log() {
    std::lock_guard<std::mutex> lock(log_mu_);
    return log_;
  }

  FakeConfigTarget target_;
  ConfigStore store_{&target_, {}};
  ControlServer server_{&store_, &target_};
  std::unique_ptr<v1::ControlPlane::Stub> stub_;
  std::mutex log_mu_;
  std::vector<std::string> log_;
};

}  // namespace rwproxy::control

#endif  // RWPROXY_TESTS_CONTROL_CONTROL_SERVICE_FIXTURE_H_
