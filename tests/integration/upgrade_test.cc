// WebSocket / Upgrade tunnels (issue #13): a route with `upgrades: [websocket]` tunnels after the
// upstream's 101; without it the offer is forwarded as a plain request. Tunnels survive config
// applies (even removing their route), end after upgrade_idle_timeout, stay open through a drain
// until its timeout, and work over TLS on both sides.
#include <signal.h>

#include <memory>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "config/config_yaml.h"
#include "grpcpp/grpcpp.h"
#include "gtest/gtest.h"
#include "proto/control.grpc.pb.h"
#include "tests/integration/tls_fixture.h"
#include "tests/support/websocket_client.h"

namespace rwtest {
namespace {

namespace v1 = rwproxy::control::v1;

constexpr char kWsConfig[] = R"yaml(
clusters:
  - name: app
    endpoints: ["{{app}}"]
routes:
  - name: ws
    match: {path_prefix: /ws}
    cluster: app
    upgrades: [websocket]
    upgrade_idle_timeout: IDLE
  - name: ROUTE
    match: {path_prefix: /}
    cluster: app
)yaml";

std::string WsConfig(const std::string& idle = "1h", const std::string& route = "rest") {
  std::string yaml = kWsConfig;
  yaml.replace(yaml.find("IDLE"), 4, idle);
  yaml.replace(yaml.find("ROUTE"), 5, route);
  return yaml;
}

class UpgradeTest : public TlsTest {
 protected:
  absl::StatusOr<std::unique_ptr<WebSocketClient>> Open(const std::string& target,
                                                        HttpResponse* response = nullptr) {
    return WebSocketClient::Connect(env_.proxy_port(), target, WebSocketOptions{}, response);
  }

  // Applies `yaml` through the control API.
  grpc::Status ApplyYaml(const std::string& yaml) {
    if (stub_ == nullptr) {
      stub_ = v1::ControlPlane::NewStub(grpc::CreateChannel(
          absl::StrCat("127.0.0.1:", env_.control_port()), grpc::InsecureChannelCredentials()));
    }
    v1::ApplyRequest request;
    std::vector<rwproxy::yaml::YamlError> errors;
    if (!rwproxy::yaml::ParseConfig(env_.Expand(yaml), request.mutable_config(), nullptr,
                                    &errors)) {
      return grpc::Status(grpc::StatusCode::INVALID_ARGUMENT, "test config does not parse");
    }
    v1::ApplyResponse response;
    grpc::ClientContext context;
    context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(20));
    return stub_->Apply(&context, request, &response);
  }

  std::unique_ptr<v1::ControlPlane::Stub> stub_;
};

TEST_F(UpgradeTest, WebSocketEchoesThroughTheTunnelAndIsCounted) {
  RW_ASSERT_OK(StartApp({}, {}, WsConfig()));
  HttpResponse handshake;
  auto ws = Open("/ws/chat", &handshake);
  RW_ASSERT_OK(ws);
  EXPECT_EQ(handshake.status, 101);
  for (int i = 0; i < 5; ++i) {
    auto echo = (*ws)->Echo(absl::StrCat("hello ", i));
    RW_ASSERT_OK(echo);
    EXPECT_EQ(*echo, absl::StrCat("hello ", i));
  }
  auto big = (*ws)->Echo(std::string(200000, 'x'), /*binary=*/true);  // many reads and writes
  RW_ASSERT_OK(big);
  EXPECT_EQ(big->size(), 200000u);
  EXPECT_EQ(Counter("server.upgrades_total"), 1);
  EXPECT_EQ(Counter("server.upgrades_active"), 1);
  EXPECT_EQ(UpstreamStat("app", "websockets_active"), 1);
  RW_ASSERT_OK((*ws)->Close());
  EXPECT_TRUE(WaitFor([&] { return Counter("server.upgrades_active") == 0; },
                      std::chrono::seconds(5), "upgrades_active back to 0"));
  // The upstream connection never went back to the pool: the next request opens another.
  auto res = Get("/other");
  RW_ASSERT_OK(res);
  EXPECT_EQ(res->status, 200);
  EXPECT_EQ(Counter("cluster.app.upstream_cx_total"), 2);
}

TEST_F(UpgradeTest, WithoutUpgradesTheOfferIsAPlainRequest) {
  RW_ASSERT_OK(StartApp({}, {}, WsConfig()));
  HttpResponse handshake;
  auto ws = Open("/plain", &handshake);  // route "rest" has no upgrades
  EXPECT_FALSE(ws.ok());
  EXPECT_EQ(handshake.status, 200);
  // The upstream saw neither Upgrade nor Connection: upgrade, so it answered as HTTP.
  EXPECT_EQ(UpstreamStat("app", "websockets_total"), 0);
  // A refusal by the upstream is relayed as is.
  auto refused = Open("/ws-refuse", &handshake);
  EXPECT_FALSE(refused.ok());
  EXPECT_EQ(handshake.status, 403);
  EXPECT_EQ(Counter("server.upgrades_total"), 0);
}

TEST_F(UpgradeTest, FiftyTunnelsSurviveAHundredApplies) {
  RW_ASSERT_OK(StartApp({}, {}, WsConfig()));
  std::vector<std::unique_ptr<WebSocketClient>> sockets;
  for (int i = 0; i < 50; ++i) {
    auto ws = Open(absl::StrCat("/ws/", i));
    RW_ASSERT_OK(ws);
    sockets.push_back(std::move(*ws));
  }
  EXPECT_EQ(Counter("server.upgrades_active"), 50);
  // Alternate between configs; every other one has no ws route at all.
  const std::string without_ws = R"yaml(
clusters:
  - name: app
    endpoints: ["{{app}}"]
routes:
  - name: only
    match: {path_prefix: /}
    cluster: app
)yaml";
  for (int i = 0; i < 100; ++i) {
    grpc::Status status = ApplyYaml(i % 2 == 0 ? without_ws : WsConfig("1h", absl::StrCat("r", i)));
    ASSERT_TRUE(status.ok()) << "apply " << i << ": " << status.error_message();
  }
  for (int i = 0; i < 50; ++i) {
    auto echo = sockets[i]->Echo(absl::StrCat("still here ", i));
    ASSERT_TRUE(echo.ok()) << "tunnel " << i << ": " << echo.status();
    EXPECT_EQ(*echo, absl::StrCat("still here ", i));
  }
  EXPECT_EQ(Counter("server.upgrades_active"), 50);
  EXPECT_EQ(UpstreamStat("app", "websockets_active"), 50);
}

TEST_F(UpgradeTest, AnIdleTunnelEndsAfterUpgradeIdleTimeout) {
  RW_ASSERT_OK(StartApp({}, {}, WsConfig("1s")));
  auto ws = Open("/ws/idle");
  RW_ASSERT_OK(ws);
  RW_ASSERT_OK((*ws)->Echo("before"));
  (*ws)->set_timeout(std::chrono::seconds(10));
  auto read = (*ws)->Read();  // nothing comes: the proxy closes the idle tunnel
  EXPECT_FALSE(read.ok());
  EXPECT_FALSE(absl::IsDeadlineExceeded(read.status())) << read.status();
  EXPECT_TRUE(WaitFor([&] { return Counter("server.upgrades_active") == 0; },
                      std::chrono::seconds(5), "upgrades_active back to 0"));
}

TEST_F(UpgradeTest, DrainLeavesTunnelsOpenUntilItsTimeout) {
  RW_ASSERT_OK(StartApp({}, {"--drain-timeout", "3s"}, WsConfig()));
  auto ws = Open("/ws/drain");
  RW_ASSERT_OK(ws);
  ASSERT_EQ(::kill(env_.proxy().pid(), SIGTERM), 0);
  EXPECT_TRUE(WaitFor(
      [&] {
        auto ready = Fetch(env_.admin_port(), "GET", "/ready");
        return ready.ok() && ready->status == 503;
      },
      std::chrono::seconds(5), "draining: /ready 503"));
  auto echo = (*ws)->Echo("during the drain");
  RW_ASSERT_OK(echo);
  EXPECT_EQ(*echo, "during the drain");
  (*ws)->set_timeout(std::chrono::seconds(15));
  auto read = (*ws)->Read();  // closed when the drain timeout ends the process
  EXPECT_FALSE(read.ok());
  EXPECT_FALSE(absl::IsDeadlineExceeded(read.status())) << read.status();
  EXPECT_TRUE(WaitFor([&] { return !env_.proxy().Alive(); }, std::chrono::seconds(10),
                      "the proxy exits after the drain timeout"));
}

TEST_F(UpgradeTest, WebSocketOverTlsOnBothSides) {
  auto front = pki().IssueServer("front", {"front.test"});
  auto back = pki().IssueServer("app", {"app.test"});
  RW_ASSERT_OK(front);
  RW_ASSERT_OK(back);
  RW_ASSERT_OK(StartTlsUpstream("app", *back));
  std::string config = WsConfig();
  config.replace(config.find("endpoints: [\"{{app}}\"]"), 22,
                 absl::StrCat("endpoints: [\"{{app}}\"]\n    tls: {sni: app.test, ca_file: \"",
                              pki().ca_cert(), "\"}"));
  RW_ASSERT_OK(env_.StartProxy(config, TlsFlags({*front})));
  WebSocketOptions options;
  options.tls = true;
  options.tls_options = Client("front.test");
  auto ws = WebSocketClient::Connect(env_.tls_port(), "/ws/secure", options);
  RW_ASSERT_OK(ws);
  auto echo = (*ws)->Echo("over TLS twice");
  RW_ASSERT_OK(echo);
  EXPECT_EQ(*echo, "over TLS twice");
  EXPECT_EQ(Counter("cluster.app.upstream_tls_handshakes"), 1);
  EXPECT_EQ(UpstreamStat("app", "websockets_active"), 1);
}

}  // namespace
}  // namespace rwtest
