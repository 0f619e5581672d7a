// Route header edits end to end: real rwproxy in front of the strict recording upstream. The
// upstream's bytes and the client's response are compared exactly, over one pooled upstream
// connection shared by routes with and without edits.
#include <algorithm>
#include <string>
#include <utility>
#include <vector>

#include "gtest/gtest.h"
#include "tests/integration/integration_fixture.h"
#include "tests/support/recording_upstream.h"

namespace rwtest {
namespace {

constexpr char kHeaderOpsConfig[] = R"yaml(
clusters:
  - name: rec
    endpoints: ["{{rec}}"]
routes:
  - name: plain
    match: {path_prefix: /plain/}
    cluster: rec
  - name: edited
    match: {path_prefix: /}
    cluster: rec
    request_headers:
      set: {X-Forwarded-Proto: https}
      add: {Via: 1.1 rwproxy}
      remove: [Cookie]
    response_headers:
      set: {Server: rwproxy}
      add: {X-Frame-Options: DENY}
      remove: [X-Powered-By]
      rewrite_location:
        - {from: "http://backend.internal:8081/", to: /}
)yaml";

// What the upstream answers every request with.
constexpr char kRedirectReply[] =
    "HTTP/1.1 302 Found\r\nLocation: http://backend.internal:8081/app/next?x=1\r\n"
    "Server: backend\r\nX-Powered-By: php\r\nContent-Length: 2\r\n\r\nok";

class HeaderOpsTest : public IntegrationTest {
 protected:
  void SetUp() override {
    upstream_.set_reply(kRedirectReply);
    RW_ASSERT_OK(upstream_.Start());
    env_.SetAddress("rec", upstream_.port());
    RW_ASSERT_OK(env_.StartProxy(kHeaderOpsConfig, {"--workers", "1"}));
  }
  RecordingUpstream upstream_;
};

// Client requests carry their own X-Request-Id, so the upstream bytes are fully predictable.
TEST_F(HeaderOpsTest, EditsRequestAndResponseHeadersOverOnePooledConnection) {
  auto conn = Connect();
  RW_ASSERT_OK(conn);
  // 1: remove (a field sent twice, any case), set replaces the proxy's X-Forwarded-Proto, add.
  RW_ASSERT_OK(
      (*conn)->WriteRaw("GET /a HTTP/1.1\r\nHost: shop\r\nCookie: s=1\r\nX-Request-Id: req-1\r\n"
                        "Accept: */*\r\ncookie: t=2\r\n\r\n"));
  auto first = (*conn)->ReadResponse();
  RW_ASSERT_OK(first);
  EXPECT_EQ(first->status, 302);
  const Headers edited = {{"Location", "/app/next?x=1"},
                          {"server", "rwproxy"},
                          {"x-frame-options", "DENY"},
                          {"Content-Length", "2"}};
  EXPECT_EQ(first->headers, edited);
  EXPECT_EQ(first->body, "ok");
  // 2: a body, and the client's own Via kept before the added one.
  RW_ASSERT_OK(
      (*conn)->WriteRaw("POST /b HTTP/1.1\r\nHost: shop\r\nVia: 1.0 edge\r\n"
                        "X-Request-Id: req-2\r\nContent-Length: 3\r\n\r\nabc"));
  auto second = (*conn)->ReadResponse();
  RW_ASSERT_OK(second);
  EXPECT_EQ(second->headers, edited);
  // 3: a route without edits, on the same pooled connection: everything as sent.
  RW_ASSERT_OK(
      (*conn)->WriteRaw("GET /plain/x HTTP/1.1\r\nHost: shop\r\nCookie: s=1\r\n"
                        "X-Request-Id: req-3\r\n\r\n"));
  auto third = (*conn)->ReadResponse();
  RW_ASSERT_OK(third);
  EXPECT_EQ(third->headers, (Headers{{"Location", "http://backend.internal:8081/app/next?x=1"},
                                     {"Server", "backend"},
                                     {"X-Powered-By", "php"},
                                     {"Content-Length", "2"}}));
  // 4: the exact bytes the client gets.
  RW_ASSERT_OK(
      (*conn)->WriteRaw("GET /c HTTP/1.1\r\nHost: shop\r\nX-Request-Id: req-4\r\n"
                        "Connection: close\r\n\r\n"));
  auto last = (*conn)->ReadUntilClose();
  RW_ASSERT_OK(last);
  EXPECT_EQ(*last,
            "HTTP/1.1 302 Found\r\nLocation: /app/next?x=1\r\nserver: rwproxy\r\n"
            "x-frame-options: DENY\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok");

  auto requests = upstream_.requests();
  ASSERT_EQ(requests.size(), 4u);
  EXPECT_EQ(requests[0].bytes,
            "GET /a HTTP/1.1\r\nX-Request-Id: req-1\r\nAccept: */*\r\nHost: shop\r\n"
            "X-Forwarded-For: 127.0.0.1\r\nx-forwarded-proto: https\r\nvia: 1.1 rwproxy\r\n\r\n");
  EXPECT_EQ(requests[1].bytes,
            "POST /b HTTP/1.1\r\nVia: 1.0 edge\r\nX-Request-Id: req-2\r\nHost: shop\r\n"
            "X-Forwarded-For: 127.0.0.1\r\nx-forwarded-proto: https\r\nvia: 1.1 rwproxy\r\n"
            "Content-Length: 3\r\n\r\nabc");
  EXPECT_EQ(requests[2].bytes,
            "GET /plain/x HTTP/1.1\r\nCookie: s=1\r\nX-Request-Id: req-3\r\nHost: shop\r\n"
            "X-Forwarded-For: 127.0.0.1\r\nX-Forwarded-Proto: http\r\n\r\n");
  EXPECT_EQ(requests[3].bytes,
            "GET /c HTTP/1.1\r\nX-Request-Id: req-4\r\nHost: shop\r\n"
            "X-Forwarded-For: 127.0.0.1\r\nx-forwarded-proto: https\r\nvia: 1.1 rwproxy\r\n\r\n");
  for (const auto& request : requests) EXPECT_EQ(request.connection, 0);
  EXPECT_EQ(upstream_.connections(), 1);
  EXPECT_TRUE(upstream_.errors().empty()) << upstream_.errors()[0];
}

TEST_F(HeaderOpsTest, ConfigDumpShowsTheEdits) {
  auto dump = Fetch(env_.admin_port(), "GET", "/config_dump");
  RW_ASSERT_OK(dump);
  EXPECT_NE(dump->body.find("\"request_headers\":{\"set\":{\"x-forwarded-proto\":\"https\"},"
                            "\"add\":{\"via\":\"1.1 rwproxy\"},\"remove\":[\"cookie\"]}"),
            std::string::npos)
      << dump->body;
  EXPECT_NE(dump->body.find("\"response_headers\":{\"set\":{\"server\":\"rwproxy\"},"
                            "\"add\":{\"x-frame-options\":\"DENY\"},\"remove\":[\"x-powered-by\"],"
                            "\"rewrite_location\":[{\"from\":\"http://backend.internal:8081/\","
                            "\"to\":\"/\"}]}"),
            std::string::npos)
      << dump->body;
  // A route without edits shows them empty.
  EXPECT_NE(dump->body.find("\"request_headers\":{\"set\":{},\"add\":{},\"remove\":[]}"),
            std::string::npos)
      << dump->body;
}

constexpr char kHostFromEndpointConfig[] = R"yaml(
clusters:
  - name: pair
    endpoints: ["{{one}}", "{{two}}"]
routes:
  - name: balanced
    match: {path_prefix: /}
    rewrite: {host_from_endpoint: true}
    cluster: pair
)yaml";

// Rewrite.host_from_endpoint: each try names the endpoint it goes to (Apache's ProxyPreserveHost
// Off with a balancer), also when the body comes after the head (the head is detached from the
// client buffer then) and on pooled connections.
TEST(HostFromEndpointTest, EachUpstreamGetsItsOwnHost) {
  RecordingUpstream one, two;
  RW_ASSERT_OK(one.Start());
  RW_ASSERT_OK(two.Start());
  ProxyHarness env;
  env.SetAddress("one", one.port());
  env.SetAddress("two", two.port());
  RW_ASSERT_OK(env.StartProxy(kHostFromEndpointConfig, {"--workers", "1"}));
  auto conn = HttpConnection::Connect(env.proxy_port());
  RW_ASSERT_OK(conn);
  for (int i = 0; i < 4; ++i) {
    RW_ASSERT_OK((*conn)->WriteRaw("GET /g HTTP/1.1\r\nHost: front\r\nX-Request-Id: r\r\n\r\n"));
    auto response = (*conn)->ReadResponse();
    RW_ASSERT_OK(response);
    EXPECT_EQ(response->status, 200);
  }
  // The body waits for 100 Continue, so it is not in the buffer when the head is built.
  RW_ASSERT_OK((*conn)->WriteRaw(
      "POST /p HTTP/1.1\r\nHost: front\r\nX-Request-Id: r\r\nExpect: 100-continue\r\n"
      "Content-Length: 3\r\n\r\n"));
  auto interim = (*conn)->ReadResponse();
  RW_ASSERT_OK(interim);
  ASSERT_EQ(interim->status, 100);
  RW_ASSERT_OK((*conn)->WriteRaw("abc"));
  auto posted = (*conn)->ReadResponse();
  RW_ASSERT_OK(posted);
  EXPECT_EQ(posted->status, 200);

  const std::string host_one = "127.0.0.1:" + std::to_string(one.port());
  const std::string host_two = "127.0.0.1:" + std::to_string(two.port());
  auto get = [](const std::string& host) {
    return "GET /g HTTP/1.1\r\nX-Request-Id: r\r\nHost: " + host +
           "\r\nX-Forwarded-For: 127.0.0.1\r\nX-Forwarded-Proto: http\r\n\r\n";
  };
  std::vector<std::string> seen;
  for (const auto& [upstream, host] : {std::pair{&one, host_one}, std::pair{&two, host_two}}) {
    for (const auto& request : upstream->requests()) {
      if (request.bytes.starts_with("GET")) {
        EXPECT_EQ(request.bytes, get(host));
      } else {
        EXPECT_EQ(request.bytes,
                  "POST /p HTTP/1.1\r\nX-Request-Id: r\r\nHost: " + host +
                      "\r\nX-Forwarded-For: 127.0.0.1\r\nX-Forwarded-Proto: http\r\n"
                      "Content-Length: 3\r\n\r\nabc");
      }
      seen.push_back(host);
    }
    EXPECT_TRUE(upstream->errors().empty()) << upstream->errors()[0];
    EXPECT_EQ(upstream->connections(), 1);  // pooled: one connection per endpoint
  }
  ASSERT_EQ(seen.size(), 5u);
  EXPECT_EQ(std::count(seen.begin(), seen.end(), host_one), 3);  // round robin over one worker
}

}  // namespace
}  // namespace rwtest
