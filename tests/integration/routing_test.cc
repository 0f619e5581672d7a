// Routing, rewrites, redirects, fixed replies and request/response handling through a real
// rwproxy in front of a real rwupstream.
#include <string>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "gtest/gtest.h"
#include "tests/integration/integration_fixture.h"
#include "tests/support/recording_upstream.h"

namespace rwtest {
namespace {

using RoutingTest = IntegrationTest;

TEST_F(RoutingTest, RegexRewriteKeepsQueryAndHostAndAppendsForwardedFor) {
  RW_ASSERT_OK(StartApp());
  auto res =
      Get("/api/users/7?x=1", {{"Host", "client.example:8080"}, {"X-Forwarded-For", "10.0.0.1"}});
  RW_ASSERT_OK(res);
  ASSERT_EQ(res->status, 200) << res->body;
  auto echo = ParseKeyValues(res->body);
  EXPECT_EQ(echo["target"], "/users/7?x=1");
  EXPECT_EQ(echo["method"], "GET");
  EXPECT_EQ(echo["host"], "client.example:8080");
  EXPECT_TRUE(absl::StartsWith(echo["xff"], "10.0.0.1,")) << echo["xff"];
  EXPECT_TRUE(absl::EndsWith(echo["xff"], "127.0.0.1")) << echo["xff"];
  EXPECT_EQ(echo["xfp"], "http");
}

TEST_F(RoutingTest, ForwardedForIsClientAddressWhenAbsent) {
  RW_ASSERT_OK(StartApp());
  auto res = Get("/api/plain");
  RW_ASSERT_OK(res);
  ASSERT_EQ(res->status, 200) << res->body;
  auto echo = ParseKeyValues(res->body);
  EXPECT_EQ(echo["xff"], "127.0.0.1");
  EXPECT_EQ(echo["target"], "/plain");
}

TEST_F(RoutingTest, RewrittenPathWithQueryReplacesClientQuery) {
  RW_ASSERT_OK(StartApp());
  auto res = Get("/q/abc?x=1");
  RW_ASSERT_OK(res);
  ASSERT_EQ(res->status, 200) << res->body;
  EXPECT_EQ(ParseKeyValues(res->body)["target"], "/fixed?src=q");
}

TEST_F(RoutingTest, RewriteHostReplacesHostHeader) {
  RW_ASSERT_OK(StartApp());
  auto res = Get("/hosted/x?y=2", {{"Host", "client.example"}});
  RW_ASSERT_OK(res);
  ASSERT_EQ(res->status, 200) << res->body;
  auto echo = ParseKeyValues(res->body);
  EXPECT_EQ(echo["host"], "internal.example");
  EXPECT_EQ(echo["target"], "/hosted/x?y=2");
}

TEST_F(RoutingTest, HopByHopHeadersAreStrippedBothWays) {
  RW_ASSERT_OK(StartApp());
  auto res = Get("/api/keepalive-timeout/5", {{"Connection", "keep-alive, X-Echo-Hop"},
                                              {"X-Echo-Hop", "1"},
                                              {"X-Echo-Keep", "2"},
                                              {"Keep-Alive", "timeout=9"}});
  RW_ASSERT_OK(res);
  ASSERT_EQ(res->status, 200) << res->body;
  auto echo = ParseKeyValues(res->body);
  EXPECT_EQ(echo["x-echo-keep"], "2");
  EXPECT_EQ(echo.count("x-echo-hop"), 0u) << res->body;
  // The upstream's Keep-Alive describes the upstream hop, not the client's.
  EXPECT_NE(res->Header("Keep-Alive"), "timeout=5");
}

TEST_F(RoutingTest, RedirectReturns301WithLocationAndNoUpstreamRequest) {
  RW_ASSERT_OK(StartApp());
  const int64_t before = UpstreamCount("requests");
  auto res = Get("/docs/a");
  RW_ASSERT_OK(res);
  EXPECT_EQ(res->status, 301);
  EXPECT_EQ(res->Header("Location"), "https://docs.example.com/docs/a");
  // Only this stats request reached the upstream.
  EXPECT_EQ(UpstreamCount("requests"), before + 1);
}

TEST_F(RoutingTest, RespondReturnsFixedStatusAndBody) {
  RW_ASSERT_OK(StartApp());
  auto res = Get("/admin/users");
  RW_ASSERT_OK(res);
  EXPECT_EQ(res->status, 403);
  EXPECT_EQ(res->body, "forbidden\n");
}

TEST_F(RoutingTest, NoRouteReturns404WithReasonAndCounts) {
  RW_ASSERT_OK(StartApp());
  auto res = Get("/nowhere");
  RW_ASSERT_OK(res);
  EXPECT_EQ(res->status, 404);
  EXPECT_TRUE(IsOneLine(res->body)) << res->body;
  EXPECT_TRUE(absl::StrContains(absl::AsciiStrToLower(res->body), "route")) << res->body;
  EXPECT_TRUE(absl::StartsWith(res->Header("Content-Type"), "text/plain"));
  EXPECT_TRUE(CounterReaches("server.no_route", 1));
}

TEST_F(RoutingTest, StatsCountRequestsByStatusClass) {
  RW_ASSERT_OK(StartApp());
  auto conn = Connect();
  RW_ASSERT_OK(conn);
  for (int i = 0; i < 3; ++i) {
    auto res = (*conn)->Send("GET", "/api/ok");
    RW_ASSERT_OK(res);
    ASSERT_EQ(res->status, 200);
  }
  auto res = (*conn)->Send("GET", "/api/status/404");
  RW_ASSERT_OK(res);
  ASSERT_EQ(res->status, 404);
  res = (*conn)->Send("GET", "/api/status/503");
  RW_ASSERT_OK(res);
  ASSERT_EQ(res->status, 503);
  EXPECT_TRUE(CounterReaches("cluster.app.rq_total", 5));
  EXPECT_TRUE(CounterReaches("cluster.app.rq_2xx", 3));
  EXPECT_TRUE(CounterReaches("cluster.app.rq_4xx", 1));
  EXPECT_TRUE(CounterReaches("cluster.app.rq_5xx", 1));
  EXPECT_TRUE(CounterReaches("listener.proxy.downstream_rq_total", 5));
  EXPECT_TRUE(CounterReaches("listener.proxy.downstream_cx_total", 1));
  auto metrics = Fetch(env_.admin_port(), "GET", "/metrics");
  RW_ASSERT_OK(metrics);
  EXPECT_EQ(metrics->status, 200);
  EXPECT_TRUE(
      absl::StrContains(metrics->body, "rwproxy_cluster_upstream_cx_total{cluster=\"app\"} "))
      << metrics->body;
  auto healthz = Fetch(env_.admin_port(), "GET", "/healthz");
  RW_ASSERT_OK(healthz);
  EXPECT_EQ(healthz->status, 200);
}

TEST_F(RoutingTest, HeadGetsHeadersWithoutBody) {
  RW_ASSERT_OK(StartApp());
  auto conn = Connect();
  RW_ASSERT_OK(conn);
  auto head = (*conn)->Send("HEAD", "/api/bytes/1000");
  RW_ASSERT_OK(head);
  EXPECT_EQ(head->status, 200);
  EXPECT_EQ(head->Header("Content-Length"), "1000");
  EXPECT_TRUE(head->body.empty());
  // If the proxy had sent body bytes, this response would not parse as 201.
  auto next = (*conn)->Send("GET", "/api/status/201");
  RW_ASSERT_OK(next);
  EXPECT_EQ(next->status, 201);
}

TEST_F(RoutingTest, PipelinedRequestsAreAnsweredInOrder) {
  RW_ASSERT_OK(StartApp());
  auto conn = Connect();
  RW_ASSERT_OK(conn);
  RW_ASSERT_OK(
      (*conn)->WriteRaw("GET /api/sleep/100 HTTP/1.1\r\nHost: p\r\n\r\n"
                        "GET /api/two HTTP/1.1\r\nHost: p\r\n\r\n"
                        "GET /api/three HTTP/1.1\r\nHost: p\r\n\r\n"));
  const char* expected[] = {"/sleep/100", "/two", "/three"};
  for (const char* target : expected) {
    auto res = (*conn)->ReadResponse();
    RW_ASSERT_OK(res);
    EXPECT_EQ(res->status, 200);
    EXPECT_EQ(ParseKeyValues(res->body)["target"], target);
  }
}

TEST_F(RoutingTest, InvalidConfigExitsNonZeroWithMessage) {
  auto result = env_.RunProxyToExit(R"yaml(
clusters:
  - name: app
    endpoints: ["127.0.0.1:1"]
routes:
  - name: broken
    match: {path_regex: "^/api/(.*$"}
    cluster: app
)yaml",
                                    {});
  RW_ASSERT_OK(result);
  EXPECT_NE(result->first, 0);
  EXPECT_FALSE(result->second.empty());
}

TEST_F(RoutingTest, UnknownFlagExitsNonZeroWithMessage) {
  env_.SetAddress("app", 1);
  auto result = env_.RunProxyToExit(kBaseConfig, {"--no-such-flag"});
  RW_ASSERT_OK(result);
  EXPECT_NE(result->first, 0);
  EXPECT_FALSE(result->second.empty());
}

// Host, header and query conditions with %N and query: append, end to end: the strict recording
// upstream must receive exactly the rewritten request line, and only for requests that match.
TEST_F(RoutingTest, ConditionsAndPercentGroupsRewriteTheRequestLine) {
  RecordingUpstream upstream;
  RW_ASSERT_OK(upstream.Start());
  env_.SetAddress("rec", upstream.port());
  RW_ASSERT_OK(env_.StartProxy(R"yaml(
clusters:
  - name: rec
    endpoints: ["{{rec}}"]
routes:
  - name: tenant
    match:
      path_prefix: /t/
      headers:
        - {name: x-tenant, regex: "^(.+)$"}
    rewrite: {path: "/tenants/%1/api"}
    cluster: rec
  - name: mobile
    match:
      path_regex: "^/shop/(.*)$"
      hosts: ["*.example.com"]
      headers:
        - {name: user-agent, regex: "Mobile/\\w+"}
      query: {regex: "(?:^|&)lang=(\\w+)"}
    rewrite: {path: "/m/%1/$1?src=m", query: append}
    cluster: rec
)yaml",
                               {"--workers", "1"}));
  struct Row {
    const char* request;
    int status;
  };
  const Row rows[] = {
      {"GET /shop/cart?lang=de&x=1 HTTP/1.1\r\nHost: WWW.Example.com:8080\r\n"
       "User-Agent: Foo Mobile/15E148\r\n\r\n",
       200},
      {"GET /shop/cart?lang=de HTTP/1.1\r\nHost: www.example.org\r\n"
       "User-Agent: Foo Mobile/15E148\r\n\r\n",
       404},  // host
      {"GET /shop/cart?lang=de HTTP/1.1\r\nHost: www.example.com\r\n"
       "User-Agent: Desktop\r\n\r\n",
       404},  // header
      {"GET /shop/cart?x=1 HTTP/1.1\r\nHost: www.example.com\r\n"
       "User-Agent: Mobile/1\r\n\r\n",
       404},  // query
      // An absolute-form authority is the request's host, not the Host field.
      {"GET http://a.b.example.com/shop/x?lang=en HTTP/1.1\r\nHost: other.org\r\n"
       "User-Agent: Mobile/1\r\n\r\n",
       200},
      {"GET /t/ HTTP/1.1\r\nHost: a\r\nX-Tenant: acme\r\n\r\n", 200},
      // A %N value may not move the routed path elsewhere upstream: refused, never forwarded.
      {"GET /t/ HTTP/1.1\r\nHost: a\r\nX-Tenant: ../admin\r\n\r\n", 400},
      {"GET /t/ HTTP/1.1\r\nHost: a\r\nX-Tenant: %2e%2e\r\n\r\n", 400},
  };
  for (const Row& row : rows) {
    auto conn = Connect();
    RW_ASSERT_OK(conn);
    RW_ASSERT_OK((*conn)->WriteRaw(row.request));
    auto res = (*conn)->ReadResponse();
    RW_ASSERT_OK(res);
    EXPECT_EQ(res->status, row.status) << row.request << res->body;
  }
  auto requests = upstream.requests();
  ASSERT_EQ(requests.size(), 3u);
  auto request_line = [](const std::string& bytes) { return bytes.substr(0, bytes.find("\r\n")); };
  EXPECT_EQ(request_line(requests[0].bytes), "GET /m/de/cart?src=m&lang=de&x=1 HTTP/1.1");
  EXPECT_EQ(request_line(requests[1].bytes), "GET /m/en/x?src=m&lang=en HTTP/1.1");
  EXPECT_EQ(request_line(requests[2].bytes), "GET /tenants/acme/api HTTP/1.1");
  EXPECT_TRUE(upstream.errors().empty()) << upstream.errors()[0];
}

}  // namespace
}  // namespace rwtest
