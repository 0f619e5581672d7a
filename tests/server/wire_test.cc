// From raw client bytes to the exact bytes sent upstream, and from raw upstream bytes to the exact
// bytes sent to the client, through the same codec, policy, head builders and body decoder the
// session uses (no sockets).
#include "server/http/wire.h"

#include <string>

#include "gtest/gtest.h"
#include "server/http/body_framing.h"
#include "server/http/codec.h"
#include "server/http/framing.h"

namespace rwproxy {
namespace {

std::string Flatten(Gather& gather) {
  std::string out;
  for (const auto& piece : gather.span()) out.append(static_cast<const char*>(piece.data()), piece.size());
  return out;
}

// What the proxy sends upstream for `raw` (head and, for chunked, the re-chunked body).
std::string Upstream(const std::string& raw, std::string_view target = "/t",
                     const HeaderOpsSpec* ops = nullptr, std::string_view request_id = {}) {
  MessageHead head;
  ParseError parse;
  if (ParseRequestHead(raw, &head, &parse) != ParseStatus::kComplete) return "PARSE ERROR";
  RequestFraming framing;
  PolicyError policy;
  if (!CheckRequest(head, raw.data(), &framing, &policy)) return "POLICY ERROR";
  UpstreamHead params;
  params.target = target;
  params.host = framing.host;
  params.client_address = "10.0.0.9";
  params.body = framing.body;
  params.length = framing.length;
  params.request_id = request_id;
  params.ops = ops;
  std::string scratch;
  Gather gather;
  BuildUpstreamHead(head, raw.data(), framing, params, &scratch, &gather);
  std::string out = Flatten(gather);
  BufferPool pool;
  Buffer body(&pool);
  std::string rest = raw.substr(head.size);
  body.Prepare(rest.size() + 1, 1 << 20);
  std::copy(rest.begin(), rest.end(), body.write_ptr());
  body.Commit(rest.size());
  BodyState state;
  state.kind = framing.body;
  state.remaining = framing.length;
  const char* reason = "";
  if (framing.body == BodyKind::kChunked) {
    if (!DecodeBuffered(body, &state, true, &out, &reason)) return std::string("BODY ERROR ") + reason;
    out += "|left:" + std::string(body.view());
  } else {
    out += std::string(body.view());
  }
  return out;
}

TEST(UpstreamBytesTest, RewritesTargetRestatesHostAndForwardedFields) {
  EXPECT_EQ(Upstream("GET /api/x?y=1 HTTP/1.1\r\nHost: shop\r\nUser-Agent: t\r\nX-Forwarded-For: 1.2.3.4\r\n"
                     "X-Forwarded-Proto: https\r\nAccept: */*\r\n\r\n",
                     "/x?y=1"),
            "GET /x?y=1 HTTP/1.1\r\nUser-Agent: t\r\nAccept: */*\r\nHost: shop\r\n"
            "X-Forwarded-For: 1.2.3.4, 10.0.0.9\r\nX-Forwarded-Proto: http\r\n\r\n");
}

TEST(UpstreamBytesTest, DropsHopByHopFromEveryConnectionLine) {
  EXPECT_EQ(Upstream("GET / HTTP/1.1\r\nHost: a\r\nConnection: keep-alive, X-Secret\r\nX-Secret: s\r\n"
                     "Connection: X-Other\r\nX-Other: o\r\nKeep-Alive: 5\r\nTE: trailers\r\nUpgrade: h2c\r\n"
                     "Proxy-Connection: x\r\nX-Kept: k\r\n\r\n"),
            "GET /t HTTP/1.1\r\nX-Kept: k\r\nHost: a\r\nX-Forwarded-For: 10.0.0.9\r\n"
            "X-Forwarded-Proto: http\r\n\r\n");
}

// The chunked upload of the issue: the last chunk must appear exactly once upstream.
TEST(UpstreamBytesTest, ChunkedBodyIsRechunkedWithOneLastChunk) {
  EXPECT_EQ(Upstream("PUT /x HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n"
                     "b;name=v\r\nhello world\r\n0\r\nX-Trailer: t\r\n\r\nGET /next HTTP/1.1\r\n"),
            "PUT /t HTTP/1.1\r\nHost: a\r\nX-Forwarded-For: 10.0.0.9\r\nX-Forwarded-Proto: http\r\n"
            "Transfer-Encoding: chunked\r\n\r\nb\r\nhello world\r\n0\r\n\r\n"
            "|left:GET /next HTTP/1.1\r\n");
}

TEST(UpstreamBytesTest, ContentLengthIsRestatedOnce) {
  EXPECT_EQ(Upstream("POST /x HTTP/1.1\r\nContent-Length: 3\r\nHost: a\r\nContent-Length: 3\r\n\r\nabc"),
            "POST /t HTTP/1.1\r\nHost: a\r\nX-Forwarded-For: 10.0.0.9\r\nX-Forwarded-Proto: http\r\n"
            "Content-Length: 3\r\n\r\nabc");
}

TEST(UpstreamBytesTest, AbsoluteFormAuthorityIsTheHost) {
  EXPECT_EQ(Upstream("GET http://real.example/p HTTP/1.1\r\nHost: fake\r\n\r\n"),
            "GET /t HTTP/1.1\r\nHost: real.example\r\nX-Forwarded-For: 10.0.0.9\r\n"
            "X-Forwarded-Proto: http\r\n\r\n");
}

// Client fields named in remove or set (in any case, each time they appear) are left out; set
// and add fields follow the proxy's own, before the framing.
TEST(UpstreamBytesTest, HeaderOpsRemoveSetAdd) {
  HeaderOpsSpec ops;
  ops.remove = {"cookie"};
  ops.set = {{"x-env", "prod"}};
  ops.add = {{"via", "1.1 rw"}};
  EXPECT_EQ(Upstream("POST /x HTTP/1.1\r\nHost: a\r\nCookie: c1\r\nX-Keep: k\r\ncookie: c2\r\n"
                     "X-ENV: old\r\nVia: 1.0 client\r\nContent-Length: 3\r\nAccept: */*\r\n\r\nabc",
                     "/t", &ops),
            "POST /t HTTP/1.1\r\nX-Keep: k\r\nVia: 1.0 client\r\nAccept: */*\r\nHost: a\r\n"
            "X-Forwarded-For: 10.0.0.9\r\nX-Forwarded-Proto: http\r\nx-env: prod\r\n"
            "via: 1.1 rw\r\nContent-Length: 3\r\n\r\nabc");
}

// The fields the proxy writes itself follow the ops too: set replaces the proxy's value (the
// client's X-Forwarded-For values included), remove drops it.
TEST(UpstreamBytesTest, HeaderOpsApplyToForwardedFieldsAndRequestId) {
  const std::string raw =
      "GET / HTTP/1.1\r\nHost: a\r\nX-Forwarded-For: 1.2.3.4\r\nX-Forwarded-Proto: http\r\n"
      "X-Request-Id: from-client\r\n\r\n";
  HeaderOpsSpec ops;
  ops.set = {{"x-forwarded-proto", "https"}};
  ops.remove = {"x-forwarded-for", "x-request-id"};
  EXPECT_EQ(Upstream(raw, "/t", &ops, "generated-id"),
            "GET /t HTTP/1.1\r\nHost: a\r\nx-forwarded-proto: https\r\n\r\n");
  HeaderOpsSpec set_all;
  set_all.set = {{"x-forwarded-for", "10.1.1.1"}, {"x-request-id", "fixed"}};
  EXPECT_EQ(Upstream(raw, "/t", &set_all, "generated-id"),
            "GET /t HTTP/1.1\r\nHost: a\r\nX-Forwarded-Proto: http\r\n"
            "x-forwarded-for: 10.1.1.1\r\nx-request-id: fixed\r\n\r\n");
  // Without ops: the client's X-Request-Id is kept and the given one added (the session passes
  // one only when it generated it).
  EXPECT_EQ(Upstream(raw, "/t", nullptr, "generated-id"),
            "GET /t HTTP/1.1\r\nX-Request-Id: from-client\r\nHost: a\r\n"
            "X-Forwarded-For: 1.2.3.4, 10.0.0.9\r\nX-Forwarded-Proto: http\r\n"
            "X-Request-Id: generated-id\r\n\r\n");
}

// What the client gets for an upstream head.
std::string ClientHeadFor(const std::string& raw, ClientHead params) {
  MessageHead head;
  ParseError parse;
  if (ParseResponseHead(raw, &head, &parse) != ParseStatus::kComplete) return "PARSE ERROR";
  ResponseFraming framing;
  PolicyError policy;
  if (!CheckResponse(head, raw.data(), params.bodiless, &framing, &policy)) return "POLICY ERROR";
  std::string scratch;
  Gather gather;
  BuildClientHead(head, raw.data(), framing, params, &scratch, &gather);
  return Flatten(gather);
}

TEST(ClientBytesTest, ResponseHeadRestatesFramingAndDropsHopByHop) {
  ClientHead params;
  params.body = BodyKind::kChunked;
  EXPECT_EQ(ClientHeadFor("HTTP/1.1 200 OK\r\nServer: s\r\nTransfer-Encoding: chunked\r\n"
                          "Connection: X-A\r\nX-A: a\r\nKeep-Alive: timeout=5\r\n\r\n",
                          params),
            "HTTP/1.1 200 OK\r\nServer: s\r\nTransfer-Encoding: chunked\r\n\r\n");
  ClientHead http10;
  http10.client_minor = 0;
  http10.keep_alive = true;
  http10.body = BodyKind::kLength;
  http10.length = 2;
  EXPECT_EQ(ClientHeadFor("HTTP/1.1 201 Created\r\nContent-Length: 2\r\n\r\n", http10),
            "HTTP/1.1 201 Created\r\nContent-Length: 2\r\nConnection: keep-alive\r\n\r\n");
}

TEST(ClientBytesTest, HeadResponseKeepsItsLengthButHasNoBody) {
  ClientHead params;
  params.bodiless = true;
  params.keep_alive = false;
  EXPECT_EQ(ClientHeadFor("HTTP/1.1 200 OK\r\nContent-Length: 99\r\n\r\n", params),
            "HTTP/1.1 200 OK\r\nContent-Length: 99\r\nConnection: close\r\n\r\n");
}

TEST(ClientBytesTest, ResponseHeaderOpsRemoveSetAdd) {
  ResponseHeaderOpsSpec ops;
  ops.remove = {"x-powered-by"};
  ops.set = {{"server", "rw"}};
  ops.add = {{"set-cookie", "b=2"}};
  ClientHead params;
  params.body = BodyKind::kLength;
  params.length = 2;
  params.ops = &ops;
  EXPECT_EQ(ClientHeadFor("HTTP/1.1 200 OK\r\nServer: apache\r\nX-Powered-By: php\r\n"
                          "Set-Cookie: a=1\r\nx-powered-by: again\r\nContent-Length: 2\r\n\r\n",
                          params),
            "HTTP/1.1 200 OK\r\nSet-Cookie: a=1\r\nserver: rw\r\nset-cookie: b=2\r\n"
            "Content-Length: 2\r\n\r\n");
}

// ProxyPassReverse: each URL field is rewritten where it stands, by the first entry that matches.
TEST(ClientBytesTest, RewritesLocationPrefixesInPlace) {
  ResponseHeaderOpsSpec ops;
  ops.rewrite_location = {{"http://backend.internal:8081/", "/"},
                          {"http://backend.internal:8081/app/", "/never/"},
                          {"http://other/", "https://pub.example/"}};
  ClientHead params;
  params.ops = &ops;
  EXPECT_EQ(ClientHeadFor("HTTP/1.1 302 Found\r\nDate: d\r\n"
                          "Location:  http://backend.internal:8081/app/x?y=1\r\n"
                          "Content-Location: http://backend.internal:8081/c\r\nX-A: a\r\n"
                          "uri: http://other/u\r\nLink: <http://backend.internal:8081/l>\r\n"
                          "Content-Length: 0\r\n\r\n",
                          params),
            "HTTP/1.1 302 Found\r\nDate: d\r\nLocation: /app/x?y=1\r\nContent-Location: /c\r\n"
            "X-A: a\r\nuri: https://pub.example/u\r\nLink: <http://backend.internal:8081/l>\r\n"
            "Content-Length: 0\r\n\r\n");
}

// Only a value that starts with `from`, exactly, in a URL field is rewritten.
TEST(ClientBytesTest, KeepsLocationWhenNoPrefixMatches) {
  ResponseHeaderOpsSpec ops;
  ops.rewrite_location = {{"http://backend.internal:8081/", "/"}};
  ClientHead params;
  params.ops = &ops;
  const std::string kept_before =
      "Location: http://backend.internal:8082/x\r\n"
      "Content-Location: https://backend.internal:8081/\r\n";
  const std::string kept_after =
      "X-Location: http://backend.internal:8081/x\r\nLocation: HTTP://backend.internal:8081/x\r\n"
      "Location: http://backend.internal:8081\r\n";
  EXPECT_EQ(ClientHeadFor("HTTP/1.1 301 Moved\r\n" + kept_before +
                              "Location: http://backend.internal:8081/y\r\n" + kept_after +
                              "Content-Length: 0\r\n\r\n",
                          params),
            "HTTP/1.1 301 Moved\r\n" + kept_before + "Location: /y\r\n" + kept_after +
                "Content-Length: 0\r\n\r\n");
}

// set wins over rewrite_location: the upstream's Location is replaced, not rewritten.
TEST(ClientBytesTest, SetLocationIsNotRewritten) {
  ResponseHeaderOpsSpec ops;
  ops.set = {{"location", "http://backend.internal:8081/fixed"}};
  ops.rewrite_location = {{"http://backend.internal:8081/", "/"}};
  ClientHead params;
  params.ops = &ops;
  EXPECT_EQ(ClientHeadFor("HTTP/1.1 302 Found\r\nLocation: http://backend.internal:8081/x\r\n"
                          "Content-Length: 0\r\n\r\n",
                          params),
            "HTTP/1.1 302 Found\r\nlocation: http://backend.internal:8081/fixed\r\n"
            "Content-Length: 0\r\n\r\n");
}

// A forwarded 103 goes out as the upstream sent it; the ops are for the final response.
TEST(ClientBytesTest, InterimHeadIgnoresResponseHeaderOps) {
  ResponseHeaderOpsSpec ops;
  ops.remove = {"link"};
  ops.add = {{"x-a", "1"}};
  ops.rewrite_location = {{"http://b/", "/"}};
  ClientHead params;
  params.ops = &ops;
  const std::string fields = "Link: </s.css>\r\nLocation: http://b/x\r\n";
  EXPECT_EQ(ClientHeadFor("HTTP/1.1 103 Early Hints\r\n" + fields + "\r\n", params),
            "HTTP/1.1 103 Early Hints\r\n" + fields + "\r\n");
  EXPECT_EQ(ClientHeadFor("HTTP/1.1 200 OK\r\n" + fields + "\r\n", params),
            "HTTP/1.1 200 OK\r\nLocation: /x\r\nx-a: 1\r\nContent-Length: 0\r\n\r\n");
}

TEST(LocalReplyTest, NoBodyFor204And304AndHead) {
  std::string out;
  BuildLocalReply(204, "ignored", {}, false, true, 1, &out);
  EXPECT_EQ(out, "HTTP/1.1 204 No Content\r\n\r\n");
  BuildLocalReply(404, "no route\n", {}, true, false, 1, &out);
  EXPECT_EQ(out, "HTTP/1.1 404 Not Found\r\nContent-Type: text/plain; charset=utf-8\r\n"
                 "Content-Length: 9\r\nConnection: close\r\n\r\n");
  BuildLocalReply(301, "moved\n", "https://x/", false, true, 1, &out);
  EXPECT_EQ(out, "HTTP/1.1 301 Moved Permanently\r\nContent-Type: text/plain; charset=utf-8\r\n"
                 "Content-Length: 6\r\nLocation: https://x/\r\n\r\nmoved\n");
}

}  // namespace
}  // namespace rwproxy
