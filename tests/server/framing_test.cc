// The framing policy table (server/http/framing.h): one row per rule, each naming its RFC section.
// Every row runs raw bytes through the codec and the policy, as the session does.
#include "server/http/framing.h"

#include <string>

#include "gtest/gtest.h"
#include "server/http/codec.h"

namespace rwproxy {
namespace {

struct RequestRow {
  const char* rule;  // RFC section and what it says
  std::string raw;   // a complete request head
  int status;        // 0: accepted
  BodyKind body = BodyKind::kNone;
  uint64_t length = 0;
  bool keep_alive = true;
};

// Parses and checks `raw`; returns the status (0 if accepted) and fills *framing.
int Check(const std::string& raw, MessageHead* head, RequestFraming* framing) {
  ParseError parse;
  if (ParseRequestHead(raw, head, &parse) != ParseStatus::kComplete) return parse.status;
  PolicyError policy;
  if (!CheckRequest(*head, raw.data(), framing, &policy)) return policy.status;
  return 0;
}

class RequestPolicyTest : public testing::TestWithParam<RequestRow> {};

TEST_P(RequestPolicyTest, Row) {
  const RequestRow& row = GetParam();
  MessageHead head;
  RequestFraming framing;
  EXPECT_EQ(Check(row.raw, &head, &framing), row.status) << row.rule;
  if (row.status == 0) {
    EXPECT_EQ(framing.body, row.body) << row.rule;
    EXPECT_EQ(framing.length, row.length) << row.rule;
    EXPECT_EQ(framing.keep_alive, row.keep_alive) << row.rule;
  }
}

const std::string kGet = "GET / HTTP/1.1\r\nHost: a\r\n";

INSTANTIATE_TEST_SUITE_P(
    Rfc9112, RequestPolicyTest,
    testing::Values(
        RequestRow{"plain GET", kGet + "\r\n", 0},
        RequestRow{"6.1 chunked", kGet + "Transfer-Encoding: chunked\r\n\r\n", 0, BodyKind::kChunked},
        RequestRow{"6.1 coding names are case-insensitive", kGet + "Transfer-Encoding: Chunked\r\n\r\n", 0,
                   BodyKind::kChunked},
        RequestRow{"6.1 TE list over two lines ends in chunked: unknown coding 501",
                   kGet + "Transfer-Encoding: gzip\r\nTransfer-Encoding: chunked\r\n\r\n", 501},
        RequestRow{"6.1 unknown coding before chunked: 501", kGet + "Transfer-Encoding: gzip, chunked\r\n\r\n", 501},
        RequestRow{"6.3 identity alone: chunked not final, 400", kGet + "Transfer-Encoding: identity\r\n\r\n", 400},
        RequestRow{"6.3 gzip alone: 400", kGet + "Transfer-Encoding: gzip\r\n\r\n", 400},
        RequestRow{"6.3 chunked, identity: 400", kGet + "Transfer-Encoding: chunked, identity\r\n\r\n", 400},
        RequestRow{"7 chunked twice: 400", kGet + "Transfer-Encoding: chunked, chunked\r\n\r\n", 400},
        RequestRow{"6.1 obfuscated: xchunked", kGet + "Transfer-Encoding: xchunked\r\n\r\n", 400},
        RequestRow{"6.1 obfuscated: quoted", kGet + "Transfer-Encoding: \"chunked\"\r\n\r\n", 400},
        RequestRow{"6.1 obfuscated: parameter", kGet + "Transfer-Encoding: chunked;q=1\r\n\r\n", 400},
        RequestRow{"6.1 obfuscated: empty element", kGet + "Transfer-Encoding: ,chunked\r\n\r\n", 400},
        RequestRow{"6.1 empty Transfer-Encoding", kGet + "Transfer-Encoding: \r\n\r\n", 400},
        RequestRow{"6.1 obfuscated: vertical tab", kGet + "Transfer-Encoding: chunked\x0b\r\n\r\n", 400},
        RequestRow{"5.1 obfuscated: space before colon", kGet + "Transfer-Encoding : chunked\r\n\r\n", 400},
        RequestRow{"5.2 obfuscated: obs-fold", kGet + "Transfer-Encoding:\r\n chunked\r\n\r\n", 400},
        RequestRow{"6.1 TE in HTTP/1.0", "POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n", 400},
        RequestRow{"6.1 TE with Content-Length", kGet + "Content-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n", 400},
        RequestRow{"6.3 Content-Length", kGet + "Content-Length: 42\r\n\r\n", 0, BodyKind::kLength, 42},
        RequestRow{"6.3 Content-Length 0 is no body", kGet + "Content-Length: 0\r\n\r\n", 0},
        RequestRow{"6.3 identical duplicates", kGet + "Content-Length: 5\r\nContent-Length: 5\r\n\r\n", 0,
                   BodyKind::kLength, 5},
        RequestRow{"6.3 differing duplicates", kGet + "Content-Length: 5\r\nContent-Length: 6\r\n\r\n", 400},
        RequestRow{"6.3 a list", kGet + "Content-Length: 5, 5\r\n\r\n", 400},
        RequestRow{"6.3 sign", kGet + "Content-Length: +5\r\n\r\n", 400},
        RequestRow{"6.3 hex", kGet + "Content-Length: 0x5\r\n\r\n", 400},
        RequestRow{"6.3 empty", kGet + "Content-Length: \r\n\r\n", 400},
        RequestRow{"6.3 overflow", kGet + "Content-Length: 99999999999999999999\r\n\r\n", 400},
        RequestRow{"3.2 missing Host", "GET / HTTP/1.1\r\n\r\n", 400},
        RequestRow{"3.2 two Host fields", kGet + "Host: b\r\n\r\n", 400},
        RequestRow{"3.2 invalid Host", "GET / HTTP/1.1\r\nHost: a b\r\n\r\n", 400},
        RequestRow{"3.2 Host with userinfo", "GET / HTTP/1.1\r\nHost: u@a\r\n\r\n", 400},
        RequestRow{"3.2 Host with a bad port", "GET / HTTP/1.1\r\nHost: a:8x\r\n\r\n", 400},
        RequestRow{"3.2 IPv6 Host", "GET / HTTP/1.1\r\nHost: [::1]:80\r\n\r\n", 0},
        RequestRow{"3.2 HTTP/1.0 needs no Host", "GET / HTTP/1.0\r\n\r\n", 0, BodyKind::kNone, 0, false},
        RequestRow{"3.2.2 absolute-form without Host", "GET http://a/x HTTP/1.1\r\n\r\n", 0},
        RequestRow{"3.2.2 absolute-form userinfo", "GET http://u@a/x HTTP/1.1\r\n\r\n", 400},
        RequestRow{"3.2.4 asterisk-form with GET", "GET * HTTP/1.1\r\nHost: a\r\n\r\n", 400},
        RequestRow{"3.2.3 authority-form with GET", "GET a:80 HTTP/1.1\r\nHost: a\r\n\r\n", 400},
        RequestRow{"9.3 CONNECT is not proxied", "CONNECT a:443 HTTP/1.1\r\nHost: a:443\r\n\r\n", 405},
        RequestRow{"RFC 3986 3.5 fragment", "GET /a#b HTTP/1.1\r\nHost: a\r\n\r\n", 400},
        RequestRow{"RFC 9110 10.1.1 unknown expectation", kGet + "Expect: magic\r\n\r\n", 417},
        RequestRow{"9.6 close on a second Connection line",
                   kGet + "Connection: x-a\r\nConnection: close\r\n\r\n", 0, BodyKind::kNone, 0, false},
        RequestRow{"9.3 HTTP/1.0 keep-alive", "GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n", 0,
                   BodyKind::kNone, 0, true},
        RequestRow{"2.2 bare LF line ending", "GET / HTTP/1.1\nHost: a\n\n", 400},
        RequestRow{"2.2 bare CR in a value", kGet + "X: a\rb\r\n\r\n", 400},
        RequestRow{"5.5 NUL in a value", kGet + std::string("X: a\0b\r\n\r\n", 10), 400},
        RequestRow{"5.1 empty field name", kGet + ": x\r\n\r\n", 400},
        RequestRow{"2.3 HTTP/2.0 request line", "GET / HTTP/2.0\r\nHost: a\r\n\r\n", 505},
        RequestRow{"2.3 lower-case version", "GET / http/1.1\r\nHost: a\r\n\r\n", 400},
        RequestRow{"3 two spaces in the request line", "GET  / HTTP/1.1\r\nHost: a\r\n\r\n", 400},
        RequestRow{"2.2 leading empty lines are skipped", "\r\n\r\n" + kGet + "\r\n", 0}));

TEST(RequestPolicy, AbsoluteFormAuthorityBecomesHostAndKeepsQuery) {
  MessageHead head;
  RequestFraming framing;
  std::string raw = "GET http://Example.com:8080?q=1 HTTP/1.1\r\nHost: other\r\n\r\n";
  ASSERT_EQ(Check(raw, &head, &framing), 0);
  EXPECT_EQ(framing.host, "Example.com:8080");
  EXPECT_EQ(framing.path, "/");
  EXPECT_EQ(framing.query, "?q=1");
}

TEST(RequestPolicy, ConnectionNamedFieldsAreDroppedFromEveryLine) {
  MessageHead head;
  RequestFraming framing;
  std::string raw = kGet + "Connection: x-a\r\nX-A: 1\r\nConnection: X-B\r\nx-b: 2\r\nX-C: 3\r\n\r\n";
  ASSERT_EQ(Check(raw, &head, &framing), 0);
  std::string kept;
  for (int i = 0; i < head.header_count; ++i) {
    if (!framing.drop.test(i)) kept += std::string(head.headers[i].name.In(raw.data())) + ";";
  }
  EXPECT_EQ(kept, "X-C;");  // Host is restated by the proxy, Connection and what it names dropped
}

TEST(RequestPolicy, OptionsAsteriskIsAnsweredLocally) {
  MessageHead head;
  RequestFraming framing;
  ASSERT_EQ(Check("OPTIONS * HTTP/1.1\r\nHost: a\r\n\r\n", &head, &framing), 0);
  EXPECT_TRUE(framing.options_asterisk);
}

struct ResponseRow {
  const char* rule;
  std::string raw;
  bool head_request;
  int status;  // 0: accepted; else 502
  BodyKind body = BodyKind::kNone;
  bool reusable = true;
  bool interim = false;
};

class ResponsePolicyTest : public testing::TestWithParam<ResponseRow> {};

TEST_P(ResponsePolicyTest, Row) {
  const ResponseRow& row = GetParam();
  MessageHead head;
  ParseError parse;
  int status = 0;
  ResponseFraming framing;
  if (ParseResponseHead(row.raw, &head, &parse) != ParseStatus::kComplete) {
    status = parse.status;
  } else {
    PolicyError policy;
    if (!CheckResponse(head, row.raw.data(), row.head_request, &framing, &policy)) {
      status = policy.status;
    }
  }
  EXPECT_EQ(status, row.status) << row.rule;
  if (row.status == 0) {
    EXPECT_EQ(framing.body, row.body) << row.rule;
    EXPECT_EQ(framing.reusable, row.reusable) << row.rule;
    EXPECT_EQ(framing.interim, row.interim) << row.rule;
  }
}

INSTANTIATE_TEST_SUITE_P(
    Rfc9112, ResponsePolicyTest,
    testing::Values(
        ResponseRow{"6.3 length", "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\n", false, 0, BodyKind::kLength},
        ResponseRow{"6.3 chunked", "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n", false, 0,
                    BodyKind::kChunked},
        ResponseRow{"6.3 rule 8: until close, never reused", "HTTP/1.1 200 OK\r\n\r\n", false, 0,
                    BodyKind::kUntilClose, false},
        ResponseRow{"6.3 HEAD: no body", "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\n", true, 0},
        ResponseRow{"6.3 204: no body", "HTTP/1.1 204 No Content\r\n\r\n", false, 0},
        ResponseRow{"6.3 204 announcing a body: not reused", "HTTP/1.1 204 No Content\r\nContent-Length: 4\r\n\r\n",
                    false, 0, BodyKind::kNone, false},
        ResponseRow{"6.3 304 with its representation's length", "HTTP/1.1 304 Not Modified\r\nContent-Length: 4\r\n\r\n",
                    false, 0},
        ResponseRow{"15.2 100 Continue is interim", "HTTP/1.1 100 Continue\r\n\r\n", false, 0, BodyKind::kNone,
                    true, true},
        ResponseRow{"15.2 103 Early Hints is interim", "HTTP/1.1 103 Early Hints\r\nLink: </a>\r\n\r\n", false, 0,
                    BodyKind::kNone, true, true},
        ResponseRow{"15.2.2 101 without upgrade support", "HTTP/1.1 101 Switching Protocols\r\n\r\n", false, 502},
        ResponseRow{"6.1 TE + CL", "HTTP/1.1 200 OK\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n",
                    false, 502},
        ResponseRow{"6.1 gzip, chunked", "HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip, chunked\r\n\r\n", false, 502},
        ResponseRow{"6.1 TE in HTTP/1.0", "HTTP/1.0 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n", false, 502},
        ResponseRow{"6.3 differing lengths", "HTTP/1.1 200 OK\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\n",
                    false, 502},
        ResponseRow{"9.3 close", "HTTP/1.1 200 OK\r\nContent-Length: 0\r\nConnection: close\r\n\r\n", false, 0,
                    BodyKind::kNone, false},
        ResponseRow{"9.3 HTTP/1.0 without keep-alive", "HTTP/1.0 200 OK\r\nContent-Length: 0\r\n\r\n", false, 0,
                    BodyKind::kNone, false},
        ResponseRow{"4 bad status", "HTTP/1.1 20 OK\r\n\r\n", false, 502},
        ResponseRow{"4 status 600", "HTTP/1.1 600 OK\r\n\r\n", false, 502},
        ResponseRow{"2.2 bare LF", "HTTP/1.1 200 OK\nContent-Length: 0\n\n", false, 502}));

TEST(Framing, KeepAliveHint) {
  std::string raw = "HTTP/1.1 200 OK\r\nKeep-Alive: max=5, timeout=7\r\n\r\n";
  MessageHead head;
  ParseError error;
  ASSERT_EQ(ParseResponseHead(raw, &head, &error), ParseStatus::kComplete);
  EXPECT_EQ(KeepAliveHintMs(head, raw.data()), 7000);
}

}  // namespace
}  // namespace rwproxy
