// Local replies for upstream failures: 502 (connect failure, malformed response), 503 (pool and
// queue full), 504 (route timeout), each with a one-line text/plain reason and a counter.
#include <algorithm>
#include <chrono>
#include <future>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_replace.h"
#include "gtest/gtest.h"
#include "tests/integration/integration_fixture.h"

namespace rwtest {
namespace {

using LocalReplyTest = IntegrationTest;
using Clock = std::chrono::steady_clock;

void ExpectLocalReply(const absl::StatusOr<HttpResponse>& res, int status) {
  ASSERT_TRUE(res.ok()) << res.status();
  EXPECT_EQ(res->status, status) << res->body;
  EXPECT_TRUE(absl::StartsWith(res->Header("Content-Type"), "text/plain"))
      << res->Header("Content-Type");
  const auto newlines = std::count(res->body.begin(), res->body.end(), '\n');
  EXPECT_TRUE(!res->body.empty() && newlines <= 1) << "want one line, got: " << res->body;
}

TEST_F(LocalReplyTest, ConnectFailureReturns502) {
  auto closed = UnusedPort();
  RW_ASSERT_OK(closed);
  env_.SetAddress("app", *closed);
  RW_ASSERT_OK(env_.StartProxy(kBaseConfig));
  auto res = Get("/api/x");
  ExpectLocalReply(res, 502);
  EXPECT_TRUE(CounterReaches("cluster.app.upstream_cx_connect_fail", 1));
  EXPECT_TRUE(CounterReaches("cluster.app.rq_5xx", 1));
}

TEST_F(LocalReplyTest, MalformedUpstreamResponseReturns502) {
  RW_ASSERT_OK(StartApp());
  ExpectLocalReply(Get("/api/malformed"), 502);
  EXPECT_TRUE(CounterReaches("cluster.app.upstream_rq_bad_response", 1));
  // The broken connection is not reused: the next request is served normally.
  auto next = Get("/api/after");
  RW_ASSERT_OK(next);
  EXPECT_EQ(next->status, 200);
}

TEST_F(LocalReplyTest, RouteTimeoutReturns504AndConnectionIsNotReused) {
  RW_ASSERT_OK(StartApp());
  const auto start = Clock::now();
  auto res = Get("/short/sleep/3000");  // route timeout 500ms
  const auto elapsed = Clock::now() - start;
  ExpectLocalReply(res, 504);
  EXPECT_GE(elapsed, std::chrono::milliseconds(400));
  EXPECT_LT(elapsed, std::chrono::milliseconds(2500));
  EXPECT_TRUE(CounterReaches("cluster.app.upstream_rq_timeout", 1));
  // The timed-out connection still has a reply coming: it must not serve the next request.
  auto next = Get("/short/sleep/1");
  RW_ASSERT_OK(next);
  EXPECT_EQ(next->status, 200);
  EXPECT_EQ(ParseKeyValues(next->body)["target"], "/sleep/1");
}

constexpr std::string_view kOnePool =
    "max_connections: 1, max_idle: 64, idle_timeout: 55s, "
    "max_requests_per_connection: 0, max_pending: 0}";

std::string OneConnectionConfig() {
  return absl::StrReplaceAll(kBaseConfig,
                             {{"max_connections: 1024, max_idle: 64, idle_timeout: 55s, "
                               "max_requests_per_connection: 0, max_pending: 1024}",
                               std::string(kOnePool)}});
}

TEST_F(LocalReplyTest, PoolAndQueueFullReturns503) {
  const std::string config = OneConnectionConfig();
  ASSERT_NE(config, kBaseConfig);
  RW_ASSERT_OK(StartApp({}, {"--workers", "1"}, config));
  const int64_t requests_before = UpstreamCount("requests");
  auto slow = std::async(std::launch::async, [this] { return Get("/api/sleep/500"); });
  // The slow request holds the only connection once the upstream has it.
  // The /__stats fetch counts itself, so also wait for the proxy's one connection: once it is
  // open the only slot is held.
  ASSERT_TRUE(WaitFor(
      [&] {
        return UpstreamCount("requests") >= requests_before + 2 &&
               env_.Counter("cluster.app.upstream_cx_total").value_or(0) >= 1;
      },
      std::chrono::seconds(5), "the slow request to reach the upstream"));
  auto second = Get("/api/sleep/500");
  ExpectLocalReply(second, 503);
  auto first = slow.get();
  RW_ASSERT_OK(first);
  EXPECT_EQ(first->status, 200);
  EXPECT_TRUE(CounterReaches("cluster.app.upstream_rq_overflow", 1));
}

TEST_F(LocalReplyTest, MaxConnectionsIsProxyWideAcrossWorkers) {
  RW_ASSERT_OK(StartApp({}, {"--workers", "2"}, OneConnectionConfig()));
  const int64_t requests_before = UpstreamCount("requests");
  auto slow = std::async(std::launch::async, [this] { return Get("/api/sleep/1000"); });
  // The /__stats fetch counts itself, so also wait for the proxy's one connection: once it is
  // open the only slot is held.
  ASSERT_TRUE(WaitFor(
      [&] {
        return UpstreamCount("requests") >= requests_before + 2 &&
               env_.Counter("cluster.app.upstream_cx_total").value_or(0) >= 1;
      },
      std::chrono::seconds(5), "the slow request to reach the upstream"));
  // Three more client connections; whichever worker each lands on, no second connection opens.
  for (int i = 0; i < 3; ++i) ExpectLocalReply(Get("/api/x"), 503);
  auto first = slow.get();
  RW_ASSERT_OK(first);
  EXPECT_EQ(first->status, 200);
  EXPECT_EQ(Counter("cluster.app.upstream_cx_total"), 1);
}

}  // namespace
}  // namespace rwtest
