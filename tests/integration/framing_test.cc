// Framing end to end: real rwproxy in front of a byte-exact, strict recording upstream. What the
// upstream receives is compared byte for byte; any stray byte on a pooled connection is an error.
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "tests/integration/integration_fixture.h"
#include "tests/support/recording_upstream.h"

namespace rwtest {
namespace {

constexpr char kRecordingConfig[] = R"yaml(
clusters:
  - name: rec
    endpoints: ["{{rec}}"]
  - name: app
    endpoints: ["{{app}}"]
  - name: down
    endpoints: ["{{down}}"]
routes:
  - name: deny
    match: {path_prefix: /admin}
    respond: {status: 403, body: "forbidden\n"}
  - name: app
    match: {path_regex: "^/app/(.*)$"}
    rewrite: {path: "/$1"}
    cluster: app
  - name: down
    match: {path_prefix: /down/}
    cluster: down
  - name: rec
    match: {path_prefix: /}
    cluster: rec
)yaml";

// The bytes without the one X-Request-Id line rwproxy adds (IDs differ per run); a missing or
// repeated one is a test failure, and the line must sit right after X-Forwarded-Proto.
std::string WithoutRequestId(const std::string& bytes) {
  const std::string key = "X-Forwarded-Proto: http\r\nX-Request-Id: ";
  size_t at = bytes.find(key);
  EXPECT_NE(at, std::string::npos) << bytes;
  if (at == std::string::npos) return bytes;
  EXPECT_EQ(bytes.find("X-Request-Id: ", at + key.size()), std::string::npos) << bytes;
  const size_t start = at + key.size() - std::string("X-Request-Id: ").size();
  const size_t end = bytes.find("\r\n", start);
  return bytes.substr(0, start) + bytes.substr(end + 2);
}

class FramingTest : public IntegrationTest {
 protected:
  void SetUp() override {
    RW_ASSERT_OK(upstream_.Start());
    env_.SetAddress("rec", upstream_.port());
    env_.SetAddress("down", 1);  // nothing listens on port 1
    auto app = env_.StartUpstream("app");
    RW_ASSERT_OK(app.status());
    RW_ASSERT_OK(env_.StartProxy(kRecordingConfig, {"--workers", "1"}));
  }
  RecordingUpstream upstream_;
};

// The issue's reproduction: a chunked upload, then a second request on the same client
// connection. The upstream must get the body with exactly one last chunk, then the second
// request clean, on the same pooled connection.
TEST_F(FramingTest, ChunkedUploadThenSecondRequestArriveClean) {
  auto conn = Connect();
  RW_ASSERT_OK(conn);
  RW_ASSERT_OK((*conn)->WriteRaw("PUT /x HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n"
                                 "b;ext=1\r\nhello world\r\n0\r\nX-Trailer: t\r\n\r\n"));
  auto first = (*conn)->ReadResponse();
  RW_ASSERT_OK(first);
  EXPECT_EQ(first->status, 200);
  RW_ASSERT_OK((*conn)->WriteRaw("GET /second HTTP/1.1\r\nHost: a\r\n\r\n"));
  auto second = (*conn)->ReadResponse();
  RW_ASSERT_OK(second);
  EXPECT_EQ(second->status, 200);
  auto requests = upstream_.requests();
  ASSERT_EQ(requests.size(), 2u);
  EXPECT_EQ(WithoutRequestId(requests[0].bytes),
            "PUT /x HTTP/1.1\r\nHost: a\r\nX-Forwarded-For: 127.0.0.1\r\nX-Forwarded-Proto: http\r\n"
            "Transfer-Encoding: chunked\r\n\r\nb\r\nhello world\r\n0\r\n\r\n");
  EXPECT_EQ(WithoutRequestId(requests[1].bytes),
            "GET /second HTTP/1.1\r\nHost: a\r\nX-Forwarded-For: 127.0.0.1\r\n"
            "X-Forwarded-Proto: http\r\n\r\n");
  EXPECT_EQ(requests[1].connection, requests[0].connection);  // pooled, and clean
  EXPECT_EQ(upstream_.connections(), 1);
  EXPECT_TRUE(upstream_.errors().empty()) << upstream_.errors()[0];
}

// Third-party style smuggling probes on their own connections, interleaved with valid POSTs on a
// kept-alive one: every probe is refused before anything reaches the upstream, and every valid
// POST is answered by its own response.
TEST_F(FramingTest, MalformedTrafficNeverReachesOrPoisonsPooledConnections) {
  const std::vector<std::string> probes = {
      "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: identity\r\n\r\n5\r\nhello\r\n",
      "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: gzip, chunked\r\n\r\n0\r\n\r\n",
      "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked, identity\r\n\r\n0\r\n\r\n",
      "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 4\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
      "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding : chunked\r\n\r\n0\r\n\r\n",
      "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding:\r\n chunked\r\n\r\n0\r\n\r\n",
      "POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
      "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\nhello!",
      "GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n",
      "GET / HTTP/1.1\r\n\r\n",
      "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n5\nhello\r\n0\r\n\r\n",
      "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\n",
      "GET / HTTP/1.1\r\nHost: a\r\nX: a\rb\r\n\r\n",
  };
  auto good = Connect();
  RW_ASSERT_OK(good);
  for (size_t round = 0; round < 3; ++round) {
    for (const std::string& probe : probes) {
      auto bad = Connect();
      RW_ASSERT_OK(bad);
      RW_ASSERT_OK((*bad)->WriteRaw(probe));
      auto reply = (*bad)->ReadResponse();
      ASSERT_TRUE(reply.ok()) << reply.status() << " " << probe;
      EXPECT_TRUE(reply->status == 400 || reply->status == 501) << reply->status << " " << probe;
      EXPECT_FALSE(reply->keep_alive) << probe;
      auto res = (*good)->Send("POST", "/valid", {}, "abc");
      RW_ASSERT_OK(res);
      EXPECT_EQ(res->status, 200);
      EXPECT_EQ(res->body, "ok");
    }
  }
  auto requests = upstream_.requests();
  EXPECT_EQ(requests.size(), 3 * probes.size());
  for (const auto& request : requests) EXPECT_TRUE(request.bytes.starts_with("POST /valid HTTP/1.1\r\n"));
  EXPECT_TRUE(upstream_.errors().empty()) << upstream_.errors()[0];
}

TEST_F(FramingTest, EmptyLinesBeforeAPipelinedRequestAreIgnored) {
  auto conn = Connect();
  RW_ASSERT_OK(conn);
  RW_ASSERT_OK((*conn)->WriteRaw("POST /a HTTP/1.1\r\nHost: a\r\nContent-Length: 2\r\n\r\nhi\r\n"
                                 "GET /b HTTP/1.1\r\nHost: a\r\n\r\n"));
  auto first = (*conn)->ReadResponse();
  RW_ASSERT_OK(first);
  EXPECT_EQ(first->status, 200);
  auto second = (*conn)->ReadResponse();
  RW_ASSERT_OK(second);
  EXPECT_EQ(second->status, 200);
  EXPECT_EQ(upstream_.requests().size(), 2u);
}

TEST_F(FramingTest, DotSegmentsCannotBypassARoute) {
  auto res = Get("/public/../admin");
  RW_ASSERT_OK(res);
  EXPECT_EQ(res->status, 403);
  res = Get("/public/%2e%2e/%61dmin");
  RW_ASSERT_OK(res);
  EXPECT_EQ(res->status, 403);
  EXPECT_TRUE(upstream_.requests().empty());
}

TEST_F(FramingTest, UpstreamSwitchingProtocolsIsABadGateway) {
  upstream_.set_reply("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n"
                      "Connection: Upgrade\r\n\r\n");
  auto res = Get("/ws", {{"Upgrade", "websocket"}, {"Connection", "Upgrade"}});
  RW_ASSERT_OK(res);
  EXPECT_EQ(res->status, 502) << res->body;
  EXPECT_TRUE(CounterReaches("cluster.rec.upstream_rq_bad_response", 1));
  ASSERT_EQ(upstream_.requests().size(), 1u);  // sent as a plain request: Upgrade not forwarded
  EXPECT_EQ(upstream_.requests()[0].bytes.find("websocket"), std::string::npos);
}

// Interim responses: 100 is dropped, 103 is passed on to an HTTP/1.1 client, then the final one.
TEST_F(FramingTest, InterimResponsesAreDroppedOrForwarded) {
  upstream_.set_reply("HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 103 Early Hints\r\nLink: </a.css>\r\n\r\n"
                      "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok");
  auto conn = Connect();
  RW_ASSERT_OK(conn);
  RW_ASSERT_OK((*conn)->WriteRaw("GET /hints HTTP/1.1\r\nHost: a\r\n\r\n"));
  auto first = (*conn)->ReadResponse();
  RW_ASSERT_OK(first);
  EXPECT_EQ(first->status, 103);
  EXPECT_EQ(first->Header("Link"), "</a.css>");
  auto final_response = (*conn)->ReadResponse();
  RW_ASSERT_OK(final_response);
  EXPECT_EQ(final_response->status, 200);
  EXPECT_EQ(final_response->body, "ok");
}

// A 204 that announces a body, and sends it: the client gets no body, and the upstream
// connection (now holding stray bytes) is not used again.
TEST_F(FramingTest, BodyAfter204IsNeverForwardedNorPooled) {
  upstream_.set_reply("HTTP/1.1 204 No Content\r\nContent-Length: 4\r\n\r\nabcd");
  auto conn = Connect();
  RW_ASSERT_OK(conn);
  auto first = (*conn)->Send("GET", "/a");
  RW_ASSERT_OK(first);
  EXPECT_EQ(first->status, 204);
  EXPECT_EQ(first->body, "");
  upstream_.set_reply("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok");
  auto second = (*conn)->Send("GET", "/b");
  RW_ASSERT_OK(second);
  EXPECT_EQ(second->status, 200);
  EXPECT_EQ(second->body, "ok");  // not "abcd..." from the previous exchange
  EXPECT_EQ(upstream_.connections(), 2);
}

// The client holds its body back until 100 Continue; when the upstream cannot be reached, the
// 502 must come at once, not after a body that never comes.
TEST_F(FramingTest, ExpectContinueGetsItsErrorWithoutSendingTheBody) {
  auto conn = Connect();
  RW_ASSERT_OK(conn);
  (*conn)->set_timeout(std::chrono::seconds(5));
  RW_ASSERT_OK((*conn)->WriteRaw("POST /down/x HTTP/1.1\r\nHost: a\r\nContent-Length: 10\r\n"
                                 "Expect: 100-continue\r\n\r\n"));
  auto res = (*conn)->ReadResponse();
  RW_ASSERT_OK(res);
  EXPECT_EQ(res->status, 502);
  EXPECT_FALSE(res->keep_alive);
}

TEST_F(FramingTest, ConnectionCloseOnASecondLineClosesTheConnection) {
  auto conn = Connect();
  RW_ASSERT_OK(conn);
  RW_ASSERT_OK((*conn)->WriteRaw("GET /x HTTP/1.1\r\nHost: a\r\nConnection: x-a\r\nX-A: secret\r\n"
                                 "Connection: close\r\n\r\n"));
  auto all = (*conn)->ReadUntilClose();
  RW_ASSERT_OK(all);
  EXPECT_TRUE(all->starts_with("HTTP/1.1 200 OK\r\n")) << *all;
  EXPECT_NE(all->find("Connection: close\r\n"), std::string::npos) << *all;
  ASSERT_EQ(upstream_.requests().size(), 1u);
  EXPECT_EQ(upstream_.requests()[0].bytes.find("secret"), std::string::npos);
}

// An HTTP/1.0 request without Host: the upstream gets the cluster's first configured endpoint as
// Host (ClusterInfo::default_host, kept even when that name does not resolve), in exact bytes,
// and nothing else on the connection.
TEST_F(FramingTest, Http10WithoutHostGetsTheFirstConfiguredEndpointAsHost) {
  auto conn = Connect();
  RW_ASSERT_OK(conn);
  RW_ASSERT_OK((*conn)->WriteRaw("GET /old HTTP/1.0\r\n\r\n"));
  auto res = (*conn)->ReadResponse();
  RW_ASSERT_OK(res);
  EXPECT_EQ(res->status, 200);
  auto requests = upstream_.requests();
  ASSERT_EQ(requests.size(), 1u);
  EXPECT_EQ(WithoutRequestId(requests[0].bytes),
            "GET /old HTTP/1.1\r\nHost: " + env_.address("rec") +
                "\r\nX-Forwarded-For: 127.0.0.1\r\nX-Forwarded-Proto: http\r\n\r\n");
  EXPECT_TRUE(upstream_.errors().empty()) << upstream_.errors()[0];
}

TEST_F(FramingTest, ClientForwardedProtoIsNotTrusted) {
  auto res = Get("/x", {{"X-Forwarded-Proto", "https"}});
  RW_ASSERT_OK(res);
  ASSERT_EQ(upstream_.requests().size(), 1u);
  const std::string bytes = upstream_.requests()[0].bytes;
  EXPECT_EQ(bytes.find("https"), std::string::npos) << bytes;
  EXPECT_NE(bytes.find("X-Forwarded-Proto: http\r\n"), std::string::npos) << bytes;
}

TEST_F(FramingTest, ClientRequestIdIsKeptAndAnInvalidOneReplaced) {
  {
    auto conn = Connect();
    RW_ASSERT_OK(conn);
    RW_ASSERT_OK((*conn)->WriteRaw("GET /k HTTP/1.1\r\nHost: a\r\nX-Request-Id: abc-123\r\n\r\n"));
    auto kept = (*conn)->ReadResponse();
    RW_ASSERT_OK(kept);
  }
  auto replaced = Get("/r", {{"X-Request-Id", "bad id with spaces"}});
  RW_ASSERT_OK(replaced);
  auto generated = Get("/g");
  RW_ASSERT_OK(generated);
  auto requests = upstream_.requests();
  ASSERT_EQ(requests.size(), 3u);
  // Kept as the client sent it, as the client's own line: nothing added.
  EXPECT_EQ(requests[0].bytes,
            "GET /k HTTP/1.1\r\nX-Request-Id: abc-123\r\nHost: a\r\nX-Forwarded-For: 127.0.0.1\r\n"
            "X-Forwarded-Proto: http\r\n\r\n");
  // Invalid: dropped, and one generated in its place.
  EXPECT_EQ(requests[1].bytes.find("bad id"), std::string::npos) << requests[1].bytes;
  WithoutRequestId(requests[1].bytes);
  const std::string g = WithoutRequestId(requests[2].bytes);
  EXPECT_EQ(g.find("X-Request-Id"), std::string::npos);
  // Two generated IDs differ.
  auto id_of = [](const std::string& bytes) {
    size_t at = bytes.find("X-Request-Id: ") + 14;
    return bytes.substr(at, bytes.find("\r\n", at) - at);
  };
  EXPECT_NE(id_of(requests[1].bytes), id_of(requests[2].bytes));
  EXPECT_TRUE(upstream_.errors().empty()) << upstream_.errors()[0];  // nothing stray left
}

TEST_F(FramingTest, LocalRepliesCarryTheRequestId) {
  auto conn = Connect();
  RW_ASSERT_OK(conn);
  RW_ASSERT_OK((*conn)->WriteRaw("GET /admin/x HTTP/1.1\r\nHost: a\r\nX-Request-Id: rid-7\r\n\r\n"));
  auto reply = (*conn)->ReadResponse();
  RW_ASSERT_OK(reply);
  EXPECT_EQ(reply->status, 403);
  EXPECT_EQ(reply->Header("x-request-id"), "rid-7");
  RW_ASSERT_OK((*conn)->WriteRaw("GET /down/x HTTP/1.1\r\nHost: a\r\n\r\n"));
  auto failed = (*conn)->ReadResponse();  // 502: nothing listens on port 1
  RW_ASSERT_OK(failed);
  EXPECT_EQ(failed->status, 502);
  EXPECT_FALSE(failed->Header("x-request-id").empty());
}

TEST_F(FramingTest, TheRequestIdSurvivesABodyThatArrivesLater) {
  // The head alone first: the body read reuses the client buffer where the head was.
  auto conn = Connect();
  RW_ASSERT_OK(conn);
  RW_ASSERT_OK((*conn)->WriteRaw("POST /down/x HTTP/1.1\r\nHost: a\r\nX-Request-Id: rid-body\r\n"
                                 "Content-Length: 22\r\n\r\n"));
  RW_ASSERT_OK((*conn)->WriteRaw("X-Evil: injected\r\n\r\n\r\n"));
  auto reply = (*conn)->ReadResponse();  // 502: nothing listens on port 1
  RW_ASSERT_OK(reply);
  EXPECT_EQ(reply->status, 502);
  EXPECT_EQ(reply->Header("x-request-id"), "rid-body");
  EXPECT_FALSE(reply->HasHeader("x-evil"));
}

TEST_F(FramingTest, ARequestIdNamedInConnectionIsReplaced) {
  auto res = Get("/c", {{"Connection", "x-request-id"}, {"X-Request-Id", "hop-id"}});
  RW_ASSERT_OK(res);
  auto requests = upstream_.requests();
  ASSERT_EQ(requests.size(), 1u);
  EXPECT_EQ(requests[0].bytes.find("hop-id"), std::string::npos) << requests[0].bytes;
  WithoutRequestId(requests[0].bytes);  // exactly one, generated
  EXPECT_TRUE(upstream_.errors().empty()) << upstream_.errors()[0];
}

}  // namespace
}  // namespace rwtest
