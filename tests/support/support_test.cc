// Checks the test support itself against rwupstream alone (no proxy): the upstream's behaviours
// the integration tests rely on, the HTTP client, processes and waits.
#include <chrono>
#include <csignal>
#include <string>
#include <thread>
#include <vector>

#include "gtest/gtest.h"
#include "tests/support/harness.h"
#include "tests/support/http_client.h"
#include "tests/support/process.h"
#include "tests/support/wait.h"

namespace rwtest {
namespace {

using std::chrono::milliseconds;

TEST(WaitForTest, SucceedsWhenPredicateBecomesTrue) {
  int calls = 0;
  EXPECT_TRUE(WaitFor([&] { return ++calls >= 3; }, milliseconds(1000), "three calls"));
}

TEST(WaitForTest, FailsWithDescriptionAfterDeadline) {
  auto result = WaitFor([] { return false; }, milliseconds(20), "never");
  EXPECT_FALSE(result);
  EXPECT_NE(std::string(result.message()).find("never"), std::string::npos);
}

TEST(ProcessTest, StopsByPidAndReportsSignal) {
  auto process = Process::Spawn("/bin/sleep", {"30"}, "/dev/null");
  RW_ASSERT_OK(process);
  EXPECT_TRUE(process->Alive());
  EXPECT_EQ(process->Stop(milliseconds(2000)), 128 + SIGTERM);
  EXPECT_FALSE(process->Alive());
}

TEST(ProcessTest, ReportsExitCode) {
  auto process = Process::Spawn("/bin/sh", {"-c", "exit 3"}, "/dev/null");
  RW_ASSERT_OK(process);
  ASSERT_TRUE(WaitFor([&] { return !process->Alive(); }, milliseconds(5000), "sh to exit"));
  EXPECT_EQ(process->exit_code(), 3);
}

TEST(ParseStatsTest, ReadsNameColonValueLines) {
  auto stats = ParseStats(
      "cluster.app.upstream_cx_total: 5\nlistener.proxy.downstream_rq_total: 10\n"
      "junk\n");
  EXPECT_EQ(stats["cluster.app.upstream_cx_total"], 5);
  EXPECT_EQ(stats["listener.proxy.downstream_rq_total"], 10);
  EXPECT_EQ(stats.size(), 2u);
}

class UpstreamTest : public ::testing::Test {
 protected:
  void Start(const std::vector<std::string>& args = {}) {
    auto port = harness_.StartUpstream("up", args);
    ASSERT_TRUE(port.ok()) << port.status();
    port_ = *port;
  }
  ProxyHarness harness_;
  uint16_t port_ = 0;
};

TEST_F(UpstreamTest, EchoesRequestAndCountsConnections) {
  Start();
  auto conn = HttpConnection::Connect(port_);
  RW_ASSERT_OK(conn);
  auto res = (*conn)->Send("GET", "/a/b?x=1", {{"Host", "h.example"}, {"X-Echo-Foo", "bar"}});
  RW_ASSERT_OK(res);
  EXPECT_EQ(res->status, 200);
  auto kv = ParseKeyValues(res->body);
  EXPECT_EQ(kv["name"], "up");
  EXPECT_EQ(kv["target"], "/a/b?x=1");
  EXPECT_EQ(kv["host"], "h.example");
  EXPECT_EQ(kv["x-echo-foo"], "bar");
  const std::string first_conn = kv["conn"];
  res = (*conn)->Send("POST", "/p", {}, "hello");
  RW_ASSERT_OK(res);
  kv = ParseKeyValues(res->body);
  EXPECT_EQ(kv["received"], "5");
  EXPECT_EQ(kv["conn"], first_conn);
  auto stats = harness_.UpstreamStats("up");
  RW_ASSERT_OK(stats);
  EXPECT_EQ((*stats)["connections"], 2);  // the stats connection and `conn`
  EXPECT_EQ((*stats)["requests"], 3);
}

TEST_F(UpstreamTest, StreamsBytesWithLengthAndChunked) {
  Start();
  auto conn = HttpConnection::Connect(port_);
  RW_ASSERT_OK(conn);
  auto res = (*conn)->Download("/bytes/1000003");
  RW_ASSERT_OK(res);
  EXPECT_EQ(res->body_bytes, 1000003u);
  EXPECT_FALSE(res->chunked);
  EXPECT_TRUE(res->pattern_ok);
  res = (*conn)->Download("/bytes/777777?chunked=1");
  RW_ASSERT_OK(res);
  EXPECT_EQ(res->body_bytes, 777777u);
  EXPECT_TRUE(res->chunked);
  EXPECT_TRUE(res->pattern_ok);
  auto head = (*conn)->Send("HEAD", "/bytes/1000");
  RW_ASSERT_OK(head);
  EXPECT_EQ(head->Header("Content-Length"), "1000");
  EXPECT_TRUE(head->body.empty());
  auto after = (*conn)->Send("GET", "/status/404");
  RW_ASSERT_OK(after);
  EXPECT_EQ(after->status, 404);
}

TEST_F(UpstreamTest, CountsChunkedUpload) {
  Start();
  auto conn = HttpConnection::Connect(port_);
  RW_ASSERT_OK(conn);
  auto res = (*conn)->SendChunked("PUT", "/up", 5u << 20, 100000);
  RW_ASSERT_OK(res);
  EXPECT_EQ(ParseKeyValues(res->body)["received"], std::to_string(5u << 20));
}

TEST_F(UpstreamTest, AnswersExpectContinue) {
  Start();
  auto conn = HttpConnection::Connect(port_);
  RW_ASSERT_OK(conn);
  RW_ASSERT_OK(
      (*conn)->WriteRaw("POST /e HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n"
                        "Expect: 100-continue\r\n\r\n"));
  auto interim = (*conn)->ReadResponse();
  RW_ASSERT_OK(interim);
  EXPECT_EQ(interim->status, 100);
  RW_ASSERT_OK((*conn)->WriteRaw("abc"));
  auto res = (*conn)->ReadResponse();
  RW_ASSERT_OK(res);
  EXPECT_EQ(ParseKeyValues(res->body)["received"], "3");
}

TEST_F(UpstreamTest, CloseHttp10AndMalformed) {
  Start();
  auto res = Fetch(port_, "GET", "/close");
  RW_ASSERT_OK(res);
  EXPECT_FALSE(res->keep_alive);
  res = Fetch(port_, "GET", "/http10");
  RW_ASSERT_OK(res);
  EXPECT_EQ(res->version, 10u);
  EXPECT_FALSE(res->keep_alive);
  res = Fetch(port_, "GET", "/keepalive-timeout/7");
  RW_ASSERT_OK(res);
  EXPECT_EQ(res->Header("Keep-Alive"), "timeout=7");
  res = Fetch(port_, "GET", "/malformed");
  EXPECT_FALSE(res.ok());
}

TEST_F(UpstreamTest, PipelinedRequestsAnsweredInOrder) {
  Start();
  auto conn = HttpConnection::Connect(port_);
  RW_ASSERT_OK(conn);
  RW_ASSERT_OK(
      (*conn)->WriteRaw("GET /sleep/50 HTTP/1.1\r\nHost: x\r\n\r\n"
                        "GET /two HTTP/1.1\r\nHost: x\r\n\r\n"));
  auto first = (*conn)->ReadResponse();
  auto second = (*conn)->ReadResponse();
  RW_ASSERT_OK(first);
  RW_ASSERT_OK(second);
  EXPECT_EQ(ParseKeyValues(first->body)["target"], "/sleep/50");
  EXPECT_EQ(ParseKeyValues(second->body)["target"], "/two");
}

TEST_F(UpstreamTest, DropAfterClosesOnNextRequestWithoutAResponse) {
  Start({"--drop-after", "1"});
  auto conn = HttpConnection::Connect(port_);
  RW_ASSERT_OK(conn);
  RW_ASSERT_OK((*conn)->Send("GET", "/one"));
  auto second = (*conn)->Send("GET", "/two");
  EXPECT_FALSE(second.ok());
}

TEST_F(UpstreamTest, CloseAfterClosesSilently) {
  Start({"--close-after", "2"});
  auto conn = HttpConnection::Connect(port_);
  RW_ASSERT_OK(conn);
  RW_ASSERT_OK((*conn)->Send("GET", "/one"));
  auto second = (*conn)->Send("GET", "/two");
  RW_ASSERT_OK(second);
  EXPECT_TRUE(second->keep_alive);
  auto rest = (*conn)->ReadUntilClose();
  RW_ASSERT_OK(rest);
  EXPECT_TRUE(rest->empty());
}

TEST_F(UpstreamTest, IdleCloseClosesIdleConnection) {
  Start({"--idle-close-ms", "50"});
  auto conn = HttpConnection::Connect(port_);
  RW_ASSERT_OK(conn);
  RW_ASSERT_OK((*conn)->Send("GET", "/one"));
  (*conn)->set_timeout(milliseconds(3000));
  auto rest = (*conn)->ReadUntilClose();  // returns when the upstream closes, well before 3 s
  RW_ASSERT_OK(rest);
}

TEST_F(UpstreamTest, SetStatusFailsDefaultPathsUntilReset) {
  Start();
  RW_ASSERT_OK(SetUpstream(port_, "status=503"));
  auto conn = HttpConnection::Connect(port_);
  RW_ASSERT_OK(conn);
  for (const char* target : {"/a", "/bytes/10", "/status/200", "/sleep/1"}) {
    auto res = (*conn)->Send("GET", target);
    RW_ASSERT_OK(res);
    EXPECT_EQ(res->status, 503) << target;
    EXPECT_EQ(res->body, "name=up status=503\n") << target;
    EXPECT_EQ(res->Header("Content-Length"), "19") << target;
    EXPECT_EQ(res->Header("X-Upstream-Name"), "up") << target;
    EXPECT_TRUE(res->keep_alive) << target;
  }
  auto closing = (*conn)->Send("GET", "/a", {{"Connection", "close"}});
  RW_ASSERT_OK(closing);
  EXPECT_EQ(closing->status, 503);
  EXPECT_FALSE(closing->keep_alive);
  // The control paths are not affected.
  auto health = Fetch(port_, "GET", "/healthz");
  RW_ASSERT_OK(health);
  EXPECT_EQ(health->status, 200);
  EXPECT_EQ(health->body, "ok\n");
  RW_ASSERT_OK(UpstreamStats(port_));

  RW_ASSERT_OK(harness_.SetUpstream("up", "status=0"));
  auto res = Fetch(port_, "GET", "/a");
  RW_ASSERT_OK(res);
  EXPECT_EQ(res->status, 200);
  EXPECT_EQ(ParseKeyValues(res->body)["target"], "/a");
}

TEST_F(UpstreamTest, HangNeverAnswersUntilReset) {
  Start({"--threads", "2"});
  RW_ASSERT_OK(harness_.SetUpstream("up", "hang=1"));
  auto hung = HttpConnection::Connect(port_);
  RW_ASSERT_OK(hung);
  (*hung)->set_timeout(milliseconds(300));
  auto res = (*hung)->Send("GET", "/a");
  ASSERT_FALSE(res.ok());
  EXPECT_EQ(res.status().code(), absl::StatusCode::kDeadlineExceeded) << res.status();
  // The hung connection stays open (the client gave up, the upstream did not close): a second
  // client also waits, while the control paths still answer.
  auto other = HttpConnection::Connect(port_);
  RW_ASSERT_OK(other);
  RW_ASSERT_OK((*other)->WriteRaw("GET /b HTTP/1.1\r\nHost: x\r\n\r\n"));
  (*other)->set_timeout(milliseconds(200));
  auto nothing = (*other)->ReadUntilClose();
  ASSERT_FALSE(nothing.ok());
  EXPECT_EQ(nothing.status().code(), absl::StatusCode::kDeadlineExceeded) << nothing.status();
  auto health = Fetch(port_, "GET", "/healthz");
  RW_ASSERT_OK(health);
  EXPECT_EQ(health->status, 200);

  RW_ASSERT_OK(SetUpstream(port_, "hang=0"));
  res = Fetch(port_, "GET", "/c");
  RW_ASSERT_OK(res);
  EXPECT_EQ(res->status, 200);
  // /a and /b (both hung) and /c: /b counts once the upstream has read it.
  EXPECT_TRUE(WaitFor(
      [&] {
        auto stats = harness_.UpstreamStats("up");
        return stats.ok() && (*stats)["requests_default"] == 3;
      },
      milliseconds(5000), "requests_default=3"));
}

TEST_F(UpstreamTest, DelayAndStatusCombined) {
  Start();
  RW_ASSERT_OK(harness_.SetUpstream("up", "status=502&delay_ms=150"));
  const auto start = std::chrono::steady_clock::now();
  auto res = Fetch(port_, "GET", "/a");
  const auto elapsed = std::chrono::steady_clock::now() - start;
  RW_ASSERT_OK(res);
  EXPECT_EQ(res->status, 502);
  EXPECT_GE(elapsed, milliseconds(150));
  RW_ASSERT_OK(harness_.SetUpstream("up", "status=0&delay_ms=0"));
  res = Fetch(port_, "GET", "/a");
  RW_ASSERT_OK(res);
  EXPECT_EQ(res->status, 200);
}

TEST_F(UpstreamTest, SetRejectsBadQueriesWithoutChangingAnything) {
  Start();
  for (const char* query : {"", "status=99", "status=abc", "hang=2", "nope=1", "status=503&x=1",
                            "health=0", "delay_ms=-1"}) {
    auto res = Fetch(port_, "GET", std::string("/__set?") + query);
    RW_ASSERT_OK(res);
    EXPECT_EQ(res->status, 400) << query;
    EXPECT_FALSE(harness_.SetUpstream("up", query).ok()) << query;
  }
  auto res = Fetch(port_, "GET", "/a");
  RW_ASSERT_OK(res);
  EXPECT_EQ(res->status, 200);
  auto ok = Fetch(port_, "GET", "/__set?status=0");
  RW_ASSERT_OK(ok);
  EXPECT_EQ(ok->status, 200);
  EXPECT_EQ(ok->body, "ok\n");
}

TEST_F(UpstreamTest, HealthStatusSetAtRuntimeAndFromFlag) {
  Start();
  RW_ASSERT_OK(harness_.SetUpstream("up", "health=503"));
  auto health = Fetch(port_, "GET", "/healthz");
  RW_ASSERT_OK(health);
  EXPECT_EQ(health->status, 503);
  auto res = Fetch(port_, "GET", "/a");  // the default path is not affected
  RW_ASSERT_OK(res);
  EXPECT_EQ(res->status, 200);
  RW_ASSERT_OK(harness_.SetUpstream("up", "health=200"));
  health = Fetch(port_, "GET", "/healthz");
  RW_ASSERT_OK(health);
  EXPECT_EQ(health->status, 200);

  auto other = harness_.StartUpstream("sick", {"--health-status", "503"});
  RW_ASSERT_OK(other);
  health = Fetch(*other, "GET", "/healthz");
  RW_ASSERT_OK(health);
  EXPECT_EQ(health->status, 503);
}

TEST_F(UpstreamTest, StatsCountDefaultRequestsAndHealthChecks) {
  Start();
  auto conn = HttpConnection::Connect(port_);
  RW_ASSERT_OK(conn);
  for (int i = 0; i < 3; ++i) RW_ASSERT_OK((*conn)->Send("GET", "/healthz"));
  RW_ASSERT_OK((*conn)->Send("GET", "/a"));
  RW_ASSERT_OK((*conn)->Send("GET", "/bytes/5"));
  RW_ASSERT_OK(harness_.SetUpstream("up", "status=500"));
  RW_ASSERT_OK((*conn)->Send("GET", "/b"));
  auto stats = harness_.UpstreamStats("up");
  RW_ASSERT_OK(stats);
  EXPECT_EQ((*stats)["health_checks"], 3);
  EXPECT_EQ((*stats)["requests_default"], 3);
  EXPECT_EQ((*stats)["requests"], 8);  // + /__set and /__stats
  auto text = UpstreamStats(port_);
  RW_ASSERT_OK(text);
  auto kv = ParseKeyValues(*text);
  EXPECT_EQ(kv["health_checks"], "3");
  EXPECT_EQ(kv["requests_default"], "3");
  EXPECT_EQ(kv["requests"], "9");
  EXPECT_EQ(kv["connections"], "3");  // stats connection, `conn`, this fetch
}

TEST_F(UpstreamTest, KillBySigkillAndRestartOnTheSamePort) {
  Start({"--health-status", "503"});
  auto conn = HttpConnection::Connect(port_);
  RW_ASSERT_OK(conn);
  RW_ASSERT_OK((*conn)->Send("GET", "/a"));
  const pid_t pid = harness_.upstream_pid("up");
  ASSERT_GT(pid, 0);
  RW_ASSERT_OK(harness_.KillUpstream("up"));
  EXPECT_EQ(harness_.upstream_pid("up"), -1);
  EXPECT_FALSE(Fetch(port_, "GET", "/a").ok());   // refused: nothing listens
  EXPECT_FALSE((*conn)->Send("GET", "/a").ok());  // the old connection died with it

  auto port = harness_.RestartUpstream("up");
  RW_ASSERT_OK(port);
  EXPECT_EQ(*port, port_);
  EXPECT_NE(harness_.upstream_pid("up"), pid);
  auto health = Fetch(port_, "GET", "/healthz");  // the same extra args
  RW_ASSERT_OK(health);
  EXPECT_EQ(health->status, 503);
  auto stats = harness_.UpstreamStats("up");  // a fresh process: fresh counters
  RW_ASSERT_OK(stats);
  EXPECT_EQ((*stats)["requests_default"], 0);
  EXPECT_EQ((*stats)["health_checks"], 1);

  RW_ASSERT_OK(harness_.StopUpstream("up"));
  EXPECT_FALSE(Fetch(port_, "GET", "/a").ok());
  port = harness_.StartUpstream("up", {}, port_);
  RW_ASSERT_OK(port);
  EXPECT_EQ(*port, port_);
  RW_ASSERT_OK(Fetch(port_, "GET", "/a"));
}

}  // namespace
}  // namespace rwtest
