// Upgrade offers end to end, byte for byte, against the strict recording upstream (issue #13): what
// the upstream receives for an offer on a route without `upgrades` and on a tunnelling route, that
// a declined offer leaves the pooled connection clean for the next request, and that a 101 the
// proxy did not ask for (or to a protocol it did not offer) is a 502 on a connection never reused.
#include <string>

#include "gtest/gtest.h"
#include "tests/integration/integration_fixture.h"
#include "tests/support/recording_upstream.h"

namespace rwtest {
namespace {

constexpr char kConfig[] = R"yaml(
clusters:
  - name: rec
    endpoints: ["{{rec}}"]
routes:
  - name: ws
    match: {path_prefix: /ws}
    cluster: rec
    upgrades: [websocket]
  - name: rec
    match: {path_prefix: /}
    cluster: rec
)yaml";

constexpr char kSwitchTo[] = "HTTP/1.1 101 Switching Protocols\r\nConnection: upgrade\r\nUpgrade: ";
// The client's own X-Request-Id is forwarded as it is, so the bytes are fully predictable.
constexpr char kOffer[] =
    "Host: a\r\nConnection: Upgrade\r\nUpgrade: h2c, websocket\r\nSec-WebSocket-Key: k\r\n"
    "X-Request-Id: abc-123\r\n\r\n";

class UpgradeBytesTest : public IntegrationTest {
 protected:
  void SetUp() override {
    RW_ASSERT_OK(upstream_.Start());
    env_.SetAddress("rec", upstream_.port());
    RW_ASSERT_OK(env_.StartProxy(kConfig, {"--workers", "1"}));
  }
  // Sends `head` on a new client connection and reads the answer's status.
  int Status(const std::string& head) {
    auto conn = Connect();
    if (!conn.ok()) return -1;
    if (!(*conn)->WriteRaw(head).ok()) return -1;
    auto res = (*conn)->ReadResponse();
    return res.ok() ? res->status : -1;
  }
  RecordingUpstream upstream_;
};

TEST_F(UpgradeBytesTest, AnOfferIsForwardedOnlyAsTheRouteAllows) {
  auto conn = Connect();
  RW_ASSERT_OK(conn);
  // No `upgrades` on this route: a plain request, Connection and Upgrade dropped.
  RW_ASSERT_OK((*conn)->WriteRaw(std::string("GET /plain HTTP/1.1\r\n") + kOffer));
  auto plain = (*conn)->ReadResponse();
  RW_ASSERT_OK(plain);
  EXPECT_EQ(plain->status, 200);
  // A websocket route: only the allowed protocol goes upstream (never h2c).
  RW_ASSERT_OK((*conn)->WriteRaw(std::string("GET /ws HTTP/1.1\r\n") + kOffer));
  auto declined = (*conn)->ReadResponse();  // the upstream answers 200: the offer is declined
  RW_ASSERT_OK(declined);
  EXPECT_EQ(declined->status, 200);
  RW_ASSERT_OK((*conn)->WriteRaw("GET /next HTTP/1.1\r\nHost: a\r\nX-Request-Id: abc-124\r\n\r\n"));
  auto next = (*conn)->ReadResponse();
  RW_ASSERT_OK(next);
  EXPECT_EQ(next->status, 200);

  auto requests = upstream_.requests();
  ASSERT_EQ(requests.size(), 3u);
  EXPECT_EQ(requests[0].bytes,
            "GET /plain HTTP/1.1\r\nSec-WebSocket-Key: k\r\nX-Request-Id: abc-123\r\nHost: a\r\n"
            "X-Forwarded-For: 127.0.0.1\r\nX-Forwarded-Proto: http\r\n\r\n");
  EXPECT_EQ(requests[1].bytes,
            "GET /ws HTTP/1.1\r\nSec-WebSocket-Key: k\r\nX-Request-Id: abc-123\r\nHost: a\r\n"
            "X-Forwarded-For: 127.0.0.1\r\nX-Forwarded-Proto: http\r\nConnection: upgrade\r\n"
            "Upgrade: websocket\r\n\r\n");
  EXPECT_EQ(requests[2].bytes,
            "GET /next HTTP/1.1\r\nX-Request-Id: abc-124\r\nHost: a\r\n"
            "X-Forwarded-For: 127.0.0.1\r\nX-Forwarded-Proto: http\r\n\r\n");
  // One pooled connection for all three, and nothing stray on it.
  EXPECT_EQ(requests[2].connection, requests[0].connection);
  EXPECT_EQ(upstream_.connections(), 1);
  EXPECT_TRUE(upstream_.errors().empty()) << upstream_.errors()[0];
}

TEST_F(UpgradeBytesTest, A101ThatWasNotAskedForIsA502AndTheConnectionIsNotReused) {
  // To a request whose offer was not forwarded (no `upgrades` on the route).
  upstream_.set_reply(std::string(kSwitchTo) + "websocket\r\n\r\n");
  EXPECT_EQ(Status(std::string("GET /plain HTTP/1.1\r\n") + kOffer), 502);
  // To a protocol that was not offered (h2c, when only websocket went upstream).
  upstream_.set_reply(std::string(kSwitchTo) + "h2c\r\n\r\n");
  EXPECT_EQ(Status(std::string("GET /ws HTTP/1.1\r\n") + kOffer), 502);
  upstream_.set_reply("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok");
  EXPECT_EQ(Status("GET /after HTTP/1.1\r\nHost: a\r\n\r\n"), 200);
  EXPECT_EQ(upstream_.connections(), 3);  // each 101 closed its connection
  auto requests = upstream_.requests();
  ASSERT_EQ(requests.size(), 3u);
  EXPECT_NE(requests[2].connection, requests[1].connection);
  EXPECT_NE(requests[1].connection, requests[0].connection);
  EXPECT_EQ(Counter("server.upgrades_total"), 0);
}

}  // namespace
}  // namespace rwtest
