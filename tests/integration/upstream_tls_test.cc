// TLS to clusters (issue #13): pooled and reused like plain connections (the stale keep-alive
// race included), one pool per peer identity, verification failures as a 502 naming the reason,
// mutual TLS, and health checks over TLS.
#include <atomic>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_replace.h"
#include "gtest/gtest.h"
#include "tests/integration/tls_fixture.h"

namespace rwtest {
namespace {

std::string OneCluster(const std::string& tls, const std::string& extra = "") {
  return absl::StrCat(R"yaml(
clusters:
  - name: app
    endpoints: ["{{app}}"]
    tls: )yaml", tls, extra, R"yaml(
routes:
  - name: api
    match: {path_regex: "^/api/(.*)$"}
    rewrite: {path: "/$1"}
    cluster: app
)yaml");
}

TEST_F(TlsTest, UpstreamTlsConnectionsArePooled) {
  auto server = pki().IssueServer("app", {"app.test"});
  RW_ASSERT_OK(server);
  RW_ASSERT_OK(StartTlsUpstream("app", *server));
  RW_ASSERT_OK(env_.StartProxy(
      OneCluster(absl::StrCat("{sni: app.test, ca_file: \"", pki().ca_cert(), "\"}"))));
  constexpr int kClients = 4;
  constexpr int kRequestsEach = 250;
  std::atomic<int> ok{0};
  std::vector<std::string> errors(kClients);
  std::vector<std::thread> clients;
  for (int c = 0; c < kClients; ++c) {
    clients.emplace_back([&, c] {
      auto conn = Connect();
      if (!conn.ok()) {
        errors[c] = conn.status().ToString();
        return;
      }
      for (int i = 0; i < kRequestsEach; ++i) {
        auto res = (*conn)->Send("GET", absl::StrCat("/api/k/", c, "/", i));
        if (!res.ok() || res->status != 200 || ParseKeyValues(res->body)["tls"] != "1") {
          errors[c] = absl::StrCat("request ", i, ": ",
                                   res.ok() ? res->body : res.status().ToString());
          return;
        }
        ++ok;
      }
    });
  }
  for (auto& t : clients) t.join();
  EXPECT_EQ(ok.load(), kClients * kRequestsEach) << absl::StrJoin(errors, "; ");
  EXPECT_LE(Counter("cluster.app.upstream_tls_handshakes"), kClients);
  EXPECT_GE(Counter("cluster.app.upstream_tls_handshakes"), 1);
  EXPECT_LE(UpstreamStat("app", "tls_handshakes"), kClients);
  EXPECT_EQ(Counter("cluster.app.upstream_tls_handshake_fail"), 0);
  auto res = Get("/api/x");
  RW_ASSERT_OK(res);
  EXPECT_EQ(ParseKeyValues(res->body)["sni"], "app.test") << res->body;
}

TEST_F(TlsTest, TheStaleKeepAliveRaceIsRetriedOverTls) {
  auto server = pki().IssueServer("app", {"app.test"});
  RW_ASSERT_OK(server);
  RW_ASSERT_OK(StartTlsUpstream("app", *server, {"--drop-after", "1"}));
  RW_ASSERT_OK(env_.StartProxy(
      OneCluster(absl::StrCat("{sni: app.test, ca_file: \"", pki().ca_cert(), "\"}")),
      {"--workers", "1"}));
  auto conn = Connect();
  RW_ASSERT_OK(conn);
  for (int i = 0; i < 4; ++i) {
    auto res = (*conn)->Send("GET", absl::StrCat("/api/", i));
    RW_ASSERT_OK(res);
    EXPECT_EQ(res->status, 200) << res->body;
  }
  EXPECT_GE(Counter("cluster.app.upstream_rq_retry_stale"), 1);
}

TEST_F(TlsTest, VerificationFailuresAreA502WithTheReason) {
  auto expired = pki().IssueExpired("expired", {"app.test"});
  auto other = pki().IssueServer("other", {"other.test"});
  auto untrusted = pki().IssueUntrusted("untrusted", {"app.test"});
  RW_ASSERT_OK(expired);
  RW_ASSERT_OK(other);
  RW_ASSERT_OK(untrusted);
  RW_ASSERT_OK(StartTlsUpstream("expired", *expired));
  RW_ASSERT_OK(StartTlsUpstream("other", *other));
  RW_ASSERT_OK(StartTlsUpstream("untrusted", *untrusted));
  const std::string tls = absl::StrCat("{sni: app.test, ca_file: \"", pki().ca_cert(), "\"}");
  std::string config = "clusters:\n";
  for (const char* name : {"expired", "other", "untrusted"}) {
    absl::StrAppend(&config, "  - name: ", name, "\n    endpoints: [\"{{", name,
                    "}}\"]\n    tls: ", tls, "\n");
  }
  absl::StrAppend(&config,
                  "  - name: unverified\n    endpoints: [\"{{untrusted}}\"]\n"
                  "    tls: {sni: app.test, verify: false}\nroutes:\n");
  for (const char* name : {"expired", "other", "untrusted", "unverified"}) {
    absl::StrAppend(&config, "  - name: ", name, "\n    match: {path_prefix: /", name,
                    "/}\n    cluster: ", name, "\n");
  }
  RW_ASSERT_OK(env_.StartProxy(config));
  const std::pair<const char*, const char*> cases[] = {
      {"/expired/x", "certificate has expired"},
      {"/other/x", "hostname mismatch"},
      {"/untrusted/x", "unable to get local issuer certificate"}};
  for (const auto& [path, reason] : cases) {
    auto res = Get(path);
    RW_ASSERT_OK(res);
    EXPECT_EQ(res->status, 502) << path;
    EXPECT_TRUE(absl::StrContains(res->body, "TLS handshake with upstream")) << res->body;
    EXPECT_TRUE(absl::StrContains(res->body, reason)) << path << ": " << res->body;
  }
  EXPECT_GE(Counter("cluster.expired.upstream_tls_handshake_fail"), 1);
  EXPECT_GE(Counter("cluster.other.upstream_tls_handshake_fail"), 1);
  auto unverified = Get("/unverified/x");
  RW_ASSERT_OK(unverified);
  EXPECT_EQ(unverified->status, 200) << unverified->body;
  EXPECT_EQ(Counter("cluster.unverified.upstream_tls_handshakes"), 1);
}

TEST_F(TlsTest, MutualTlsToTheUpstream) {
  auto server = pki().IssueServer("app", {"app.test"});
  auto client = pki().IssueClient("proxy-client", "rwproxy-sidecar");
  RW_ASSERT_OK(server);
  RW_ASSERT_OK(client);
  RW_ASSERT_OK(StartTlsUpstream("app", *server, {"--tls-client-ca", pki().ca_cert()}));
  const std::string ca = absl::StrCat("ca_file: \"", pki().ca_cert(), "\"");
  std::string config = absl::StrCat(
      "clusters:\n"
      "  - name: with-cert\n    endpoints: [\"{{app}}\"]\n    tls: {sni: app.test, ", ca,
      ", client_cert: \"", client->cert, "\", client_key: \"", client->key, "\"}\n"
      "  - name: without\n    endpoints: [\"{{app}}\"]\n    tls: {sni: app.test, ", ca, "}\n",
      "routes:\n"
      "  - name: with\n    match: {path_prefix: /with/}\n    cluster: with-cert\n"
      "  - name: without\n    match: {path_prefix: /without/}\n    cluster: without\n");
  RW_ASSERT_OK(env_.StartProxy(config));
  auto with = Get("/with/x");
  RW_ASSERT_OK(with);
  EXPECT_EQ(with->status, 200) << with->body;
  EXPECT_EQ(ParseKeyValues(with->body)["client_cn"], "rwproxy-sidecar") << with->body;
  auto without = Get("/without/x");
  RW_ASSERT_OK(without);
  EXPECT_EQ(without->status, 502) << without->body;
}

TEST_F(TlsTest, ClustersSendingAnotherServerNameNeverShareAConnection) {
  auto server = pki().IssueServer("app", {"a.test", "b.test"});
  RW_ASSERT_OK(server);
  RW_ASSERT_OK(StartTlsUpstream("app", *server));
  const std::string ca = absl::StrCat("ca_file: \"", pki().ca_cert(), "\"");
  std::string config = absl::StrCat(
      "clusters:\n"
      "  - name: a\n    endpoints: [\"{{app}}\"]\n    tls: {sni: a.test, ", ca, "}\n"
      "  - name: b\n    endpoints: [\"{{app}}\"]\n    tls: {sni: b.test, ", ca, "}\n"
      "routes:\n"
      "  - name: a\n    match: {path_prefix: /a/}\n    cluster: a\n"
      "  - name: b\n    match: {path_prefix: /b/}\n    cluster: b\n");
  RW_ASSERT_OK(env_.StartProxy(config, {"--workers", "1"}));
  auto conn = Connect();
  RW_ASSERT_OK(conn);
  for (int i = 0; i < 10; ++i) {
    for (const char* name : {"a", "b"}) {
      auto res = (*conn)->Send("GET", absl::StrCat("/", name, "/", i));
      RW_ASSERT_OK(res);
      ASSERT_EQ(res->status, 200) << res->body;
      EXPECT_EQ(ParseKeyValues(res->body)["sni"], absl::StrCat(name, ".test")) << res->body;
    }
  }
  EXPECT_EQ(UpstreamStat("app", "tls_handshakes"), 2);  // one pooled connection per name
}

TEST_F(TlsTest, HealthChecksOfATlsClusterSpeakTls) {
  auto server = pki().IssueServer("app", {"app.test"});
  RW_ASSERT_OK(server);
  RW_ASSERT_OK(StartTlsUpstream("app", *server));
  RW_ASSERT_OK(env_.StartProxy(OneCluster(
      absl::StrCat("{sni: app.test, ca_file: \"", pki().ca_cert(), "\"}"),
      "\n    health_check: {path: /healthz, interval: 200ms, timeout: 150ms, healthy_threshold: 1}")));
  EXPECT_TRUE(WaitFor([&] { return UpstreamStat("app", "health_checks") >= 3; },
                      std::chrono::seconds(10), "three health checks over TLS"));
  auto cluster = env_.Cluster("app");
  RW_ASSERT_OK(cluster);
  ASSERT_EQ(cluster->endpoints.size(), 1u);
  EXPECT_EQ(cluster->endpoints[0].health, "healthy") << cluster->endpoints[0].reason;
  auto res = Get("/api/x");
  RW_ASSERT_OK(res);
  EXPECT_EQ(res->status, 200);
}

}  // namespace
}  // namespace rwtest
