// Checks the test support itself against rwupstream alone (no proxy): the upstream's behaviours
// the integration tests rely on, the HTTP client, processes and waits.
#include <chrono>
#include <csignal>
#include <string>

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

}  // namespace
}  // namespace rwtest
