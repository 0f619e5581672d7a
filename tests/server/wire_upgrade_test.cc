// The exact bytes of the heads written for TLS clients (X-Forwarded-Proto: https) and for
// upgrade tunnels (the proxy's own Connection: upgrade and Upgrade lines instead of the peer's),
// through the same codec, policy and head builders the session uses (no sockets). The helpers
// follow wire_test.cc.
#include <string>

#include "gtest/gtest.h"
#include "server/http/codec.h"
#include "server/http/framing.h"
#include "server/http/wire.h"

namespace rwproxy {
namespace {

std::string Flatten(Gather& gather) {
  std::string out;
  for (const auto& piece : gather.span()) {
    out.append(static_cast<const char*>(piece.data()), piece.size());
  }
  return out;
}

struct UpstreamOptions {
  bool tls = false;
  bool tunnel = false;  // the route tunnels the request's upgrade offer
  const HeaderOpsSpec* ops = nullptr;
  std::string_view request_id;
};

// The head the proxy sends upstream for the request head `raw`.
std::string UpstreamHeadFor(const std::string& raw, const UpstreamOptions& options) {
  MessageHead head;
  ParseError parse;
  if (ParseRequestHead(raw, &head, &parse) != ParseStatus::kComplete) return "PARSE ERROR";
  RequestFraming framing;
  PolicyError policy;
  if (!CheckRequest(head, raw.data(), &framing, &policy)) return "POLICY ERROR";
  if (options.tunnel && framing.upgrade.empty()) return "NOT AN UPGRADE OFFER";
  UpstreamHead params;
  params.target = head.target.In(raw.data());
  params.host = framing.host;
  params.client_address = "10.0.0.9";
  params.body = framing.body;
  params.length = framing.length;
  params.request_id = options.request_id;
  params.ops = options.ops;
  params.tls = options.tls;
  if (options.tunnel) params.upgrade = framing.upgrade;
  std::string scratch;
  Gather gather;
  BuildUpstreamHead(head, raw.data(), framing, params, &scratch, &gather);
  return Flatten(gather);
}

const std::string kWebSocketOffer =
    "GET /chat HTTP/1.1\r\nHost: app\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n"
    "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n"
    "Origin: http://app\r\n\r\n";

TEST(UpstreamTlsBytesTest, ForwardedProtoIsHttpsOverTls) {
  const std::string raw =
      "GET /x HTTP/1.1\r\nHost: shop\r\nX-Forwarded-Proto: http\r\nAccept: */*\r\n\r\n";
  // The client's own X-Forwarded-Proto is never trusted: the proxy states what it saw.
  EXPECT_EQ(UpstreamHeadFor(raw, {.tls = true}),
            "GET /x HTTP/1.1\r\nAccept: */*\r\nHost: shop\r\nX-Forwarded-For: 10.0.0.9\r\n"
            "X-Forwarded-Proto: https\r\n\r\n");
  EXPECT_EQ(UpstreamHeadFor(raw, {.tls = false}),
            "GET /x HTTP/1.1\r\nAccept: */*\r\nHost: shop\r\nX-Forwarded-For: 10.0.0.9\r\n"
            "X-Forwarded-Proto: http\r\n\r\n");
}

// A route's set or remove of X-Forwarded-Proto wins over the proxy's value, TLS or not.
TEST(UpstreamTlsBytesTest, HeaderOpsOverrideForwardedProtoOverTls) {
  HeaderOpsSpec set;
  set.set = {{"x-forwarded-proto", "wss"}};
  EXPECT_EQ(UpstreamHeadFor("GET / HTTP/1.1\r\nHost: a\r\n\r\n", {.tls = true, .ops = &set}),
            "GET / HTTP/1.1\r\nHost: a\r\nX-Forwarded-For: 10.0.0.9\r\n"
            "x-forwarded-proto: wss\r\n\r\n");
  HeaderOpsSpec remove;
  remove.remove = {"x-forwarded-proto"};
  EXPECT_EQ(UpstreamHeadFor("GET / HTTP/1.1\r\nHost: a\r\n\r\n", {.tls = true, .ops = &remove}),
            "GET / HTTP/1.1\r\nHost: a\r\nX-Forwarded-For: 10.0.0.9\r\n\r\n");
}

// The client's "Connection: Upgrade" and "Upgrade: websocket" lines are dropped as hop-by-hop;
// the proxy's own follow X-Forwarded-Proto; the WebSocket fields are kept as they were.
TEST(UpstreamUpgradeBytesTest, TunnelledOfferRestatesConnectionAndUpgrade) {
  EXPECT_EQ(UpstreamHeadFor(kWebSocketOffer, {.tunnel = true}),
            "GET /chat HTTP/1.1\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
            "Sec-WebSocket-Version: 13\r\nOrigin: http://app\r\nHost: app\r\n"
            "X-Forwarded-For: 10.0.0.9\r\nX-Forwarded-Proto: http\r\n"
            "Connection: upgrade\r\nUpgrade: websocket\r\n\r\n");
}

// Over TLS (wss), with a generated request id: https, then the upgrade lines, then the id.
TEST(UpstreamUpgradeBytesTest, TunnelledOfferOverTlsWithRequestId) {
  EXPECT_EQ(UpstreamHeadFor(kWebSocketOffer, {.tls = true, .tunnel = true, .request_id = "r-1"}),
            "GET /chat HTTP/1.1\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
            "Sec-WebSocket-Version: 13\r\nOrigin: http://app\r\nHost: app\r\n"
            "X-Forwarded-For: 10.0.0.9\r\nX-Forwarded-Proto: https\r\n"
            "Connection: upgrade\r\nUpgrade: websocket\r\nX-Request-Id: r-1\r\n\r\n");
}

// The offered value goes upstream as the client wrote it (list, versions and case), wherever the
// client's Upgrade line was.
TEST(UpstreamUpgradeBytesTest, UpgradeValueIsForwardedVerbatim) {
  EXPECT_EQ(UpstreamHeadFor("GET / HTTP/1.1\r\nupgrade: WebSocket/13, h2c\r\nHost: a\r\n"
                            "X-A: 1\r\nconnection: keep-alive, UPGRADE\r\n\r\n",
                            {.tunnel = true}),
            "GET / HTTP/1.1\r\nX-A: 1\r\nHost: a\r\nX-Forwarded-For: 10.0.0.9\r\n"
            "X-Forwarded-Proto: http\r\nConnection: upgrade\r\nUpgrade: WebSocket/13, h2c\r\n"
            "\r\n");
}

// A route that does not tunnel the upgrade forwards the offer as a plain request: neither the
// client's upgrade lines nor the proxy's.
TEST(UpstreamUpgradeBytesTest, OfferNotTunnelledIsAPlainRequest) {
  EXPECT_EQ(UpstreamHeadFor(kWebSocketOffer, {.tunnel = false}),
            "GET /chat HTTP/1.1\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
            "Sec-WebSocket-Version: 13\r\nOrigin: http://app\r\nHost: app\r\n"
            "X-Forwarded-For: 10.0.0.9\r\nX-Forwarded-Proto: http\r\n\r\n");
}

// What the client gets for an upstream response head to an upgrade offer.
std::string ClientHeadFor(const std::string& raw, const ClientHead& params) {
  MessageHead head;
  ParseError parse;
  if (ParseResponseHead(raw, &head, &parse) != ParseStatus::kComplete) return "PARSE ERROR";
  ResponseFraming framing;
  PolicyError policy;
  if (!CheckResponse(head, raw.data(), false, &framing, &policy, "websocket")) {
    return std::string("POLICY ERROR ") + policy.reason;
  }
  std::string scratch;
  Gather gather;
  BuildClientHead(head, raw.data(), framing, params, &scratch, &gather);
  return Flatten(gather);
}

const std::string kSwitching =
    "HTTP/1.1 101 Switching Protocols\r\nServer: up\r\nConnection: Upgrade\r\n"
    "Upgrade: websocket\r\nSec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n\r\n";

// A 101: the upstream's fields minus its Connection and Upgrade lines, then the proxy's, and no
// framing (no Content-Length, no Connection: close or keep-alive).
TEST(ClientUpgradeBytesTest, SwitchingProtocolsRestatesConnectionAndUpgrade) {
  ClientHead params;
  params.upgrade = "websocket";
  EXPECT_EQ(ClientHeadFor(kSwitching, params),
            "HTTP/1.1 101 Switching Protocols\r\nServer: up\r\n"
            "Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n"
            "Connection: upgrade\r\nUpgrade: websocket\r\n\r\n");
}

// The route's response_headers are for final responses: a 101 goes out without them, and the
// keep-alive settings of the client connection say nothing on it.
TEST(ClientUpgradeBytesTest, SwitchingProtocolsIgnoresHeaderOpsAndKeepAlive) {
  ResponseHeaderOpsSpec ops;
  ops.remove = {"server"};
  ops.add = {{"x-a", "1"}};
  ClientHead params;
  params.upgrade = "websocket";
  params.ops = &ops;
  params.keep_alive = false;
  params.client_minor = 1;
  EXPECT_EQ(ClientHeadFor(kSwitching, params),
            "HTTP/1.1 101 Switching Protocols\r\nServer: up\r\n"
            "Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n"
            "Connection: upgrade\r\nUpgrade: websocket\r\n\r\n");
}

// The upgrade lines belong to a 101 only: an interim 103 or a final 200 with `upgrade` set gets
// none.
TEST(ClientUpgradeBytesTest, UpgradeLinesOnlyOnA101) {
  ClientHead params;
  params.upgrade = "websocket";
  EXPECT_EQ(ClientHeadFor("HTTP/1.1 103 Early Hints\r\nLink: </a>\r\n\r\n", params),
            "HTTP/1.1 103 Early Hints\r\nLink: </a>\r\n\r\n");
  params.body = BodyKind::kLength;
  params.length = 2;
  EXPECT_EQ(ClientHeadFor("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\n", params),
            "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\n");
}

}  // namespace
}  // namespace rwproxy
