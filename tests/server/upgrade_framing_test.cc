// The upgrade rows of the framing policy (server/http/framing.h): which requests are upgrade
// offers (RFC 9110 §7.8), which routes allow them (UpgradeAllowed), and when a 101 from the
// upstream turns the connection into a tunnel (RFC 9110 §15.2.2). Like framing_test.cc, every row
// runs raw bytes through the codec and the policy, as the session does.
#include <ostream>
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "server/http/codec.h"
#include "server/http/framing.h"

namespace rwproxy {
namespace {

struct OfferRow {
  const char* rule;
  std::string raw;      // a complete request head
  int status;           // 0: accepted
  std::string upgrade;  // RequestFraming::upgrade ("" = not an upgrade offer)
  BodyKind body = BodyKind::kNone;
};

int CheckHead(const std::string& raw, MessageHead* head, RequestFraming* framing) {
  ParseError parse;
  if (ParseRequestHead(raw, head, &parse) != ParseStatus::kComplete) return parse.status;
  PolicyError policy;
  if (!CheckRequest(*head, raw.data(), framing, &policy)) return policy.status;
  return 0;
}

// Rows are named by their rule in test output.
void PrintTo(const OfferRow& row, std::ostream* os) { *os << row.rule; }

class UpgradeOfferTest : public testing::TestWithParam<OfferRow> {};

TEST_P(UpgradeOfferTest, Row) {
  const OfferRow& row = GetParam();
  MessageHead head;
  RequestFraming framing;
  ASSERT_EQ(CheckHead(row.raw, &head, &framing), row.status) << row.rule;
  if (row.status == 0) {
    EXPECT_EQ(framing.upgrade, row.upgrade) << row.rule;
    EXPECT_EQ(framing.body, row.body) << row.rule;
  }
}

const std::string kChat = "GET /chat HTTP/1.1\r\nHost: a\r\n";

INSTANTIATE_TEST_SUITE_P(
    Rfc9110, UpgradeOfferTest,
    testing::Values(
        OfferRow{"7.8 an offer: Connection names upgrade, one Upgrade field",
                 kChat + "Connection: Upgrade\r\nUpgrade: websocket\r\n\r\n", 0, "websocket"},
        OfferRow{"7.8 the value is kept as the client wrote it",
                 kChat + "connection: UPGRADE\r\nupgrade: WebSocket\r\n\r\n", 0, "WebSocket"},
        OfferRow{"7.8 upgrade among other Connection options",
                 kChat + "Connection: keep-alive, Upgrade\r\nUpgrade: websocket\r\n\r\n", 0,
                 "websocket"},
        OfferRow{"7.6.1 upgrade named on a second Connection line",
                 kChat + "Connection: keep-alive\r\nUpgrade: websocket\r\nConnection: upgrade\r\n"
                         "\r\n",
                 0, "websocket"},
        OfferRow{"7.8 a list of protocols with versions",
                 kChat + "Connection: upgrade\r\nUpgrade: h2c, websocket/13, foo/1.0\r\n\r\n", 0,
                 "h2c, websocket/13, foo/1.0"},
        OfferRow{"6.3 Content-Length: 0 is no body: still an offer",
                 kChat + "Connection: upgrade\r\nUpgrade: websocket\r\nContent-Length: 0\r\n\r\n",
                 0, "websocket"},
        OfferRow{"7.8 HTTP/1.0 cannot upgrade: a plain request",
                 "GET /chat HTTP/1.0\r\nHost: a\r\nConnection: upgrade\r\nUpgrade: websocket\r\n"
                 "\r\n",
                 0, ""},
        OfferRow{"7.8 Upgrade without Connection: upgrade is not an offer",
                 kChat + "Upgrade: websocket\r\n\r\n", 0, ""},
        OfferRow{"7.8 Connection naming other options only",
                 kChat + "Connection: keep-alive, x-a\r\nUpgrade: websocket\r\n\r\n", 0, ""},
        OfferRow{"7.8 Connection: upgrade without an Upgrade field",
                 kChat + "Connection: upgrade\r\n\r\n", 0, ""},
        OfferRow{"7.8 two Upgrade fields: not an offer",
                 kChat + "Connection: upgrade\r\nUpgrade: websocket\r\nUpgrade: h2c\r\n\r\n", 0,
                 ""},
        OfferRow{"7.8 a body (Content-Length): not an offer",
                 "POST /chat HTTP/1.1\r\nHost: a\r\nConnection: upgrade\r\nUpgrade: websocket\r\n"
                 "Content-Length: 5\r\n\r\n",
                 0, "", BodyKind::kLength},
        OfferRow{"7.8 a body (chunked): not an offer",
                 "POST /chat HTTP/1.1\r\nHost: a\r\nConnection: upgrade\r\nUpgrade: websocket\r\n"
                 "Transfer-Encoding: chunked\r\n\r\n",
                 0, "", BodyKind::kChunked},
        OfferRow{"7.8 a body with Expect: 100-continue: not an offer",
                 "POST /chat HTTP/1.1\r\nHost: a\r\nConnection: upgrade\r\nUpgrade: websocket\r\n"
                 "Expect: 100-continue\r\nContent-Length: 5\r\n\r\n",
                 0, "", BodyKind::kLength},
        // Without a body there is nothing to continue: the expectation is void (and Expect is
        // restated, so never forwarded) and the offer stands.
        OfferRow{"10.1.1 Expect: 100-continue without a body does not spoil the offer",
                 kChat + "Connection: upgrade\r\nUpgrade: websocket\r\nExpect: 100-continue\r\n"
                         "\r\n",
                 0, "websocket"},
        OfferRow{"7.8 a protocol name with a space is not a token",
                 kChat + "Connection: upgrade\r\nUpgrade: web socket\r\n\r\n", 0, ""},
        OfferRow{"7.8 an empty protocol version",
                 kChat + "Connection: upgrade\r\nUpgrade: a/\r\n\r\n", 0, ""},
        OfferRow{"7.8 an empty protocol name", kChat + "Connection: upgrade\r\nUpgrade: /1\r\n\r\n",
                 0, ""},
        OfferRow{"7.8 two slashes", kChat + "Connection: upgrade\r\nUpgrade: a/1/2\r\n\r\n", 0, ""},
        OfferRow{"7.8 one bad protocol spoils the list",
                 kChat + "Connection: upgrade\r\nUpgrade: websocket, \"h2c\"\r\n\r\n", 0, ""},
        OfferRow{"7.8 an empty Upgrade value", kChat + "Connection: upgrade\r\nUpgrade: \r\n\r\n",
                 0, ""},
        OfferRow{"9.3.6 CONNECT stays refused with an Upgrade",
                 "CONNECT a:443 HTTP/1.1\r\nHost: a:443\r\nConnection: upgrade\r\n"
                 "Upgrade: websocket\r\n\r\n",
                 405, ""}));

// Connection and Upgrade are hop-by-hop whether or not the request is an offer: the proxy
// restates them itself when the route tunnels the upgrade (wire.h).
TEST(UpgradeOffer, ConnectionAndUpgradeAreDroppedOtherFieldsKept) {
  for (const std::string& raw :
       {kChat + "Connection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Key: k\r\n\r\n",
        kChat + "Connection: Upgrade\r\nUpgrade: web socket\r\nSec-WebSocket-Key: k\r\n\r\n"}) {
    MessageHead head;
    RequestFraming framing;
    ASSERT_EQ(CheckHead(raw, &head, &framing), 0) << raw;
    std::string kept;
    for (int i = 0; i < head.header_count; ++i) {
      if (!framing.drop.test(i)) kept += std::string(head.headers[i].name.In(raw.data())) + ";";
    }
    EXPECT_EQ(kept, "Sec-WebSocket-Key;") << raw;  // Host is restated too
  }
}

struct AllowedRow {
  const char* offered;
  std::vector<std::string> allowed;
  bool result;
};

void PrintTo(const AllowedRow& row, std::ostream* os) {
  *os << "offered '" << row.offered << "' allowed:";
  for (const std::string& a : row.allowed) *os << " " << a;
}

class UpgradeAllowedTest : public testing::TestWithParam<AllowedRow> {};

TEST_P(UpgradeAllowedTest, Row) {
  const AllowedRow& row = GetParam();
  EXPECT_EQ(UpgradeAllowed(row.offered, row.allowed), row.result) << testing::PrintToString(row);
}

INSTANTIATE_TEST_SUITE_P(
    Routes, UpgradeAllowedTest,
    testing::Values(AllowedRow{"websocket", {"websocket"}, true},
                    AllowedRow{"WebSocket", {"websocket"}, true},       // names in any case
                    AllowedRow{"websocket/13", {"websocket"}, true},    // version ignored
                    AllowedRow{"h2c, websocket", {"websocket"}, true},  // any of the list
                    AllowedRow{"h2c/1, WEBSOCKET/13", {"x", "websocket"}, true},
                    AllowedRow{"websocket", {"h2c", "websocket"}, true},
                    AllowedRow{"h2c", {"websocket"}, false},
                    AllowedRow{"websockets", {"websocket"}, false},  // whole names only
                    AllowedRow{"web", {"websocket"}, false},
                    AllowedRow{"x-websocket", {"websocket"}, false},
                    AllowedRow{"websocket", {}, false},  // the route allows none
                    AllowedRow{"", {"websocket"}, false}));

struct SwitchRow {
  const char* rule;
  std::string raw;       // a complete response head
  bool upgrade_offered;  // the request carried an upgrade offer upstream
  int status;            // 0: accepted; else 502
  bool switching = false;
  bool reusable = true;
  BodyKind body = BodyKind::kNone;
};

void PrintTo(const SwitchRow& row, std::ostream* os) { *os << row.rule; }

class SwitchingResponseTest : public testing::TestWithParam<SwitchRow> {};

TEST_P(SwitchingResponseTest, Row) {
  const SwitchRow& row = GetParam();
  MessageHead head;
  ParseError parse;
  ASSERT_EQ(ParseResponseHead(row.raw, &head, &parse), ParseStatus::kComplete) << row.rule;
  ResponseFraming framing;
  PolicyError policy;
  const bool ok =
      CheckResponse(head, row.raw.data(), false, &framing, &policy,
                    row.upgrade_offered ? "websocket" : "");
  EXPECT_EQ(ok ? 0 : policy.status, row.status) << row.rule;
  if (row.status == 0 && ok) {
    EXPECT_EQ(framing.switching, row.switching) << row.rule;
    EXPECT_EQ(framing.reusable, row.reusable) << row.rule;
    EXPECT_EQ(framing.body, row.body) << row.rule;
    EXPECT_FALSE(framing.interim) << row.rule;  // a 101 is never dropped or forwarded as 1xx
  }
}

const std::string k101 = "HTTP/1.1 101 Switching Protocols\r\n";
const std::string kSwitch = k101 + "Connection: Upgrade\r\nUpgrade: websocket\r\n";

INSTANTIATE_TEST_SUITE_P(
    Rfc9110, SwitchingResponseTest,
    testing::Values(
        SwitchRow{"15.2.2 101 without an offer", kSwitch + "\r\n", false, 502},
        SwitchRow{"15.2.2 bare 101 without an offer", k101 + "\r\n", false, 502},
        SwitchRow{"15.2.2 101 to an offer: a tunnel, never reused",
                  kSwitch + "Sec-WebSocket-Accept: x\r\n\r\n", true, 0, true, false},
        SwitchRow{"15.2.2 Connection: upgrade among other options",
                  k101 + "Connection: keep-alive, upgrade\r\nUpgrade: websocket/13\r\n\r\n", true,
                  0, true, false},
        SwitchRow{"15.2.2 101 to an offer without an Upgrade field",
                  k101 + "Connection: upgrade\r\n\r\n", true, 502},
        SwitchRow{"15.2.2 101 to an offer without Connection: upgrade",
                  k101 + "Upgrade: websocket\r\n\r\n", true, 502},
        SwitchRow{"15.2.2 101 with Connection: close only",
                  k101 + "Connection: close\r\nUpgrade: websocket\r\n\r\n", true, 502},
        SwitchRow{"15.2.2 101 with two Upgrade fields", kSwitch + "Upgrade: h2c\r\n\r\n", true,
                  502},
        SwitchRow{"6.3 101 with Content-Length", kSwitch + "Content-Length: 0\r\n\r\n", true, 502},
        SwitchRow{"7.8 101 to a protocol that was not offered (h2c for websocket)",
                  k101 + "Connection: upgrade\r\nUpgrade: h2c\r\n\r\n", true, 502},
        SwitchRow{"7.8 101 to the offered protocol and another one",
                  k101 + "Connection: upgrade\r\nUpgrade: websocket, h2c\r\n\r\n", true, 502},
        SwitchRow{"7.8 101 with an empty Upgrade value",
                  k101 + "Connection: upgrade\r\nUpgrade: \r\n\r\n", true, 502},
        SwitchRow{"7.6.1 101 with an invalid Connection option",
                  k101 + "Connection: upgrade, a@b\r\nUpgrade: websocket\r\n\r\n", true, 502},
        SwitchRow{"6.3 101 with Transfer-Encoding", kSwitch + "Transfer-Encoding: chunked\r\n\r\n",
                  true, 502},
        SwitchRow{"2.3 101 in HTTP/1.0",
                  "HTTP/1.0 101 Switching Protocols\r\nConnection: upgrade\r\n"
                  "Upgrade: websocket\r\n\r\n",
                  true, 502},
        SwitchRow{"7.8 an offer the upstream ignores: a plain, reusable response",
                  "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\n", true, 0, false, true,
                  BodyKind::kLength},
        SwitchRow{"7.8 an Upgrade field on a 200 does not switch",
                  "HTTP/1.1 200 OK\r\nConnection: upgrade\r\nUpgrade: websocket\r\n"
                  "Content-Length: 0\r\n\r\n",
                  true, 0, false, true}));

// The upstream's Connection and Upgrade lines are not forwarded as they are: the client head
// restates them (ClientHead::upgrade). Its other fields are kept.
TEST(SwitchingResponse, ConnectionAndUpgradeAreDropped) {
  const std::string raw = kSwitch + "Sec-WebSocket-Accept: x\r\nX-A: a\r\n\r\n";
  MessageHead head;
  ParseError parse;
  ASSERT_EQ(ParseResponseHead(raw, &head, &parse), ParseStatus::kComplete);
  ResponseFraming framing;
  PolicyError policy;
  ASSERT_TRUE(CheckResponse(head, raw.data(), false, &framing, &policy, "websocket"))
      << policy.reason;
  std::string kept;
  for (int i = 0; i < head.header_count; ++i) {
    if (!framing.drop.test(i)) kept += std::string(head.headers[i].name.In(raw.data())) + ";";
  }
  EXPECT_EQ(kept, "Sec-WebSocket-Accept;X-A;");
}

// Only the protocols a route allows are forwarded: "h2c, websocket" on a websocket route sends
// "websocket" alone, so the upstream cannot switch to h2c (h2c smuggling).
TEST(AllowedUpgradesTest, ForwardsOnlyTheAllowedProtocols) {
  std::string out;
  EXPECT_TRUE(AllowedUpgrades("h2c, WebSocket/13", {"websocket"}, &out));
  EXPECT_EQ(out, "WebSocket/13");
  EXPECT_TRUE(AllowedUpgrades("websocket, foo, h2c", {"websocket", "h2c"}, &out));
  EXPECT_EQ(out, "websocket, h2c");
  EXPECT_FALSE(AllowedUpgrades("h2c", {"websocket"}, &out));
  EXPECT_EQ(out, "");
  EXPECT_FALSE(AllowedUpgrades("websocket", {}, &out));
}

}  // namespace
}  // namespace rwproxy
