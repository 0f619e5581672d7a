// Shared by the control API integration tests: rwproxy (and rwupstream "app") started on a
// config whose one route carries a tag, a gRPC stub to its control port, and helpers to apply a
// tagged config and read the live one.
//
// Ownership: gtest owns the fixture; the fixture owns the processes (through IntegrationTest) and
// the stub. Thread-safety: the test's main thread; Apply may be called from one helper thread.
#ifndef RWPROXY_TESTS_INTEGRATION_CONTROL_FIXTURE_H_
#define RWPROXY_TESTS_INTEGRATION_CONTROL_FIXTURE_H_

#include <algorithm>
#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "config/config_yaml.h"
#include "grpcpp/grpcpp.h"
#include "gtest/gtest.h"
#include "proto/control.grpc.pb.h"
#include "tests/integration/integration_fixture.h"

namespace rwtest {

namespace v1 = rwproxy::control::v1;

// One route whose rewrite (and name) carry a tag, so two configs differ only there.
inline constexpr char kTagged[] = R"yaml(
clusters:
  - name: app
    endpoints: ["{{app}}"]
routes:
  - name: api-TAG
    match: {path_regex: "^/api/(.*)$"}
    rewrite: {path: "/TAG/$1"}
    cluster: app
)yaml";

inline std::string TaggedYaml(const std::string& tag) {
  return absl::StrReplaceAll(kTagged, {{"TAG", tag}});
}

class ControlTest : public IntegrationTest {
 protected:
  // Starts rwupstream "app" and rwproxy on the config tagged `tag` (no drain wait on stop).
  absl::Status StartTagged(const std::string& tag, std::vector<std::string> proxy_args = {}) {
    auto port = env_.StartUpstream("app");
    if (!port.ok()) return port.status();
    if (std::find(proxy_args.begin(), proxy_args.end(), "--drain-timeout") == proxy_args.end()) {
      proxy_args.insert(proxy_args.end(), {"--drain-timeout", "0s"});
    }
    return env_.StartProxy(TaggedYaml(tag), proxy_args);
  }

  v1::ControlPlane::Stub& Stub() {
    if (stub_ == nullptr) {
      stub_ = v1::ControlPlane::NewStub(grpc::CreateChannel(
          absl::StrCat("127.0.0.1:", env_.control_port()), grpc::InsecureChannelCredentials()));
    }
    return *stub_;
  }

  static std::unique_ptr<grpc::ClientContext> Context() {
    auto context = std::make_unique<grpc::ClientContext>();
    context->set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(20));
    return context;
  }

  rwproxy::config::v1::Config Config(const std::string& tag) {
    rwproxy::config::v1::Config config;
    std::vector<rwproxy::yaml::YamlError> errors;
    EXPECT_TRUE(
        rwproxy::yaml::ParseConfig(env_.Expand(TaggedYaml(tag)), &config, nullptr, &errors));
    return config;
  }

  // Applies the config tagged `tag`; the status, and the response in *response.
  grpc::Status Apply(const std::string& tag, v1::ApplyResponse* response,
                     std::optional<uint64_t> expected = std::nullopt) {
    v1::ApplyRequest request;
    *request.mutable_config() = Config(tag);
    request.set_description("test " + tag);
    if (expected.has_value()) request.set_expected_version(*expected);
    auto context = Context();
    return Stub().Apply(context.get(), request, response);
  }

  v1::GetConfigResponse Live() {
    v1::GetConfigResponse response;
    auto context = Context();
    grpc::Status status = Stub().GetConfig(context.get(), {}, &response);
    EXPECT_TRUE(status.ok()) << status.error_message();
    return response;
  }

  // The path rwupstream saw for GET /api/x on `conn` ("" on failure).
  static std::string UpstreamTarget(HttpConnection& conn) {
    auto res = conn.Send("GET", "/api/x");
    if (!res.ok() || res->status != 200) return "";
    return ParseKeyValues(res->body)["target"];
  }

  std::unique_ptr<v1::ControlPlane::Stub> stub_;
};

}  // namespace rwtest

#endif  // RWPROXY_TESTS_INTEGRATION_CONTROL_FIXTURE_H_
