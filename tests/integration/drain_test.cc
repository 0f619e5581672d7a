// SIGTERM drain: /ready fails at once, requests in flight complete (with Connection: close),
// idle keep-alive connections are closed, and once the process is gone new connections are
// refused; a second SIGTERM or the drain timeout ends it early.
#include <signal.h>

#include <thread>

#include "tests/integration/integration_fixture.h"

namespace rwtest {
namespace {

class DrainTest : public IntegrationTest {
 protected:
  void Signal(int sig) { ASSERT_EQ(kill(env_.proxy().pid(), sig), 0); }

  ::testing::AssertionResult Exits(std::chrono::milliseconds within) {
    return WaitFor([&] { return !env_.proxy().Alive(); }, within, "rwproxy exits");
  }

  int ReadyStatus() {
    auto response = Fetch(env_.admin_port(), "GET", "/ready", {});
    return response.ok() ? response->status : -1;
  }
};

TEST_F(DrainTest, InFlightRequestsCompleteThenNewConnectionsAreRefused) {
  RW_ASSERT_OK(StartApp({}, {"--drain-timeout", "10s"}));
  auto idle = Connect();
  RW_ASSERT_OK(idle.status());
  auto first = (*idle)->Send("GET", "/api/warm");
  RW_ASSERT_OK(first.status());
  ASSERT_EQ(first->status, 200);

  constexpr int kInFlight = 3;
  std::vector<absl::StatusOr<HttpResponse>> results(kInFlight, absl::UnknownError("not run"));
  std::vector<std::thread> clients;
  for (int i = 0; i < kInFlight; ++i) {
    clients.emplace_back([&, i] { results[i] = Get("/api/sleep/1500"); });
  }
  ASSERT_TRUE(CounterReaches("listener.proxy.downstream_rq_total", 1 + kInFlight));
  Signal(SIGTERM);
  EXPECT_TRUE(WaitFor([&] { return ReadyStatus() == 503; }, std::chrono::seconds(2),
                      "/ready fails while draining"));
  // The idle keep-alive connection is closed by the proxy without a response.
  auto rest = (*idle)->ReadUntilClose();
  RW_EXPECT_OK(rest.status());
  for (auto& client : clients) client.join();
  for (const auto& result : results) {
    RW_ASSERT_OK(result.status());
    EXPECT_EQ(result->status, 200);
    EXPECT_EQ(result->Header("Connection"), "close");
  }
  ASSERT_TRUE(Exits(std::chrono::seconds(5)));  // no connection left: well before 10 s
  EXPECT_EQ(env_.proxy().exit_code(), 0);
  EXPECT_FALSE(Connect().ok()) << "a new connection after the drain must be refused";
}

TEST_F(DrainTest, SecondSignalExitsAtOnce) {
  RW_ASSERT_OK(StartApp({}, {"--drain-timeout", "60s"}));
  std::thread slow([&] { (void)Get("/api/sleep/20000"); });
  ASSERT_TRUE(CounterReaches("listener.proxy.downstream_rq_total", 1));
  Signal(SIGTERM);
  EXPECT_TRUE(WaitFor([&] { return ReadyStatus() == 503; }, std::chrono::seconds(2), "draining"));
  EXPECT_TRUE(env_.proxy().Alive());  // still serving the slow request
  Signal(SIGTERM);
  EXPECT_TRUE(Exits(std::chrono::seconds(3)));
  EXPECT_EQ(env_.proxy().exit_code(), 0);
  slow.join();
}

TEST_F(DrainTest, DrainTimeoutBoundsTheWait) {
  RW_ASSERT_OK(StartApp({}, {"--drain-timeout", "500ms"}));
  std::thread slow([&] { (void)Get("/api/sleep/20000"); });
  ASSERT_TRUE(CounterReaches("listener.proxy.downstream_rq_total", 1));
  Signal(SIGTERM);
  EXPECT_TRUE(Exits(std::chrono::seconds(4)));
  EXPECT_EQ(env_.proxy().exit_code(), 0);
  slow.join();
}

// At the end of the drain timeout, sessions still open (one mid-head, one waiting for its
// upstream, one idle with a request body half sent) are ended cleanly: exit code 0, not a signal.
TEST_F(DrainTest, DrainTimeoutWithOpenSessionsExitsCleanly) {
  RW_ASSERT_OK(StartApp({}, {"--drain-timeout", "300ms"}));
  auto partial_head = Connect();
  RW_ASSERT_OK(partial_head);
  RW_ASSERT_OK((*partial_head)->WriteRaw("GET /api/x HTTP/1.1\r\nHost: a\r\n"));
  auto partial_body = Connect();
  RW_ASSERT_OK(partial_body);
  RW_ASSERT_OK((*partial_body)->WriteRaw(
      "POST /api/x HTTP/1.1\r\nHost: a\r\nContent-Length: 100000\r\n\r\nabc"));
  std::thread slow([&] { (void)Get("/api/sleep/20000"); });
  ASSERT_TRUE(CounterReaches("listener.proxy.downstream_rq_total", 2));
  Signal(SIGTERM);
  EXPECT_TRUE(Exits(std::chrono::seconds(4)));
  EXPECT_EQ(env_.proxy().exit_code(), 0);
  slow.join();
}

}  // namespace
}  // namespace rwtest
