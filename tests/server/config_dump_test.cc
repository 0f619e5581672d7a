// GET /config_dump's JSON (server/admin/config_dump.h) for the transport fields: a cluster's tls
// (file paths, never their contents; null for plain TCP) and a forwarding route's upgrades and
// upgrade_idle_timeout.
#include "server/admin/config_dump.h"

#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "server/tls/client_tls.h"
#include "tests/server/tls_test_util.h"

namespace rwproxy {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

Snapshot OneClusterSnapshot(const std::vector<RouteSpec>& routes) {
  Snapshot snapshot;
  snapshot.version = 3;
  ClusterInfo& app = snapshot.clusters.emplace_back();
  app.name = "app";
  app.configured = {EndpointSpec{"10.0.0.1", 8443}};
  std::vector<FieldError> errors;
  snapshot.routes = RouteTable::Build(routes, {{"app", 0}}, &errors);
  EXPECT_TRUE(errors.empty());
  return snapshot;
}

RouteSpec ToApp(const char* name) {
  RouteSpec route;
  route.name = name;
  route.action = ClusterAction{{BackendSpec{"app", 1}}};
  return route;
}

TEST(ConfigDumpTest, RoutesShowUpgradesAndIdleTimeout) {
  RouteSpec ws = ToApp("ws");
  ws.upgrades = {"websocket", "h2c"};
  ws.upgrade_idle_timeout = absl::Minutes(90);
  const std::string json = ConfigDumpJson(OneClusterSnapshot({ws, ToApp("plain")}), {});
  EXPECT_THAT(json, HasSubstr(R"("upgrades":["websocket","h2c"],"upgrade_idle_timeout":"1h30m"})"));
  EXPECT_THAT(json, HasSubstr(R"("upgrades":[],"upgrade_idle_timeout":"1h"})"));
}

TEST(ConfigDumpTest, LocalRepliesHaveNoUpgrades) {
  RouteSpec deny;
  deny.name = "deny";
  deny.action = RespondSpec{403, ""};
  EXPECT_THAT(ConfigDumpJson(OneClusterSnapshot({deny}), {}), Not(HasSubstr("upgrade")));
}

TEST(ConfigDumpTest, PlainClusterHasNullTls) {
  EXPECT_THAT(ConfigDumpJson(OneClusterSnapshot({}), {}), HasSubstr(R"("tls":null})"));
}

// A private directory with a TestPki, removed after the test (tls_test_util.h).
using ConfigDumpTlsTest = tlstest::TlsTest;

TEST_F(ConfigDumpTlsTest, ClusterTlsShowsFilePathsNotTheirContents) {
  absl::StatusOr<rwtest::CertPaths> client = pki().IssueClient("client");
  ASSERT_TRUE(client.ok()) << client.status();
  const UpstreamTlsSpec spec{"api.example.com", true,        pki().ca_cert(),
                             client->cert,      client->key, TlsVersion::kTls13};
  std::vector<std::string> warnings;
  absl::StatusOr<std::shared_ptr<const UpstreamTls>> tls = UpstreamTls::Create(spec, &warnings);
  ASSERT_TRUE(tls.ok()) << tls.status();
  Snapshot snapshot = OneClusterSnapshot({});
  snapshot.clusters[0].tls = *tls;
  const std::string json = ConfigDumpJson(snapshot, {});
  EXPECT_THAT(json, HasSubstr(absl::StrCat(
                        R"("tls":{"sni":"api.example.com","verify":true,"ca_file":")",
                        pki().ca_cert(), R"(","client_cert":")", client->cert,
                        R"(","client_key":")", client->key, R"(","min_version":"1.3"}})")));
  EXPECT_THAT(json, Not(HasSubstr("BEGIN")));  // no PEM: neither a certificate nor the key
}

}  // namespace
}  // namespace rwproxy
