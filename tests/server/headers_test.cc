#include "server/http/headers.h"

#include "gtest/gtest.h"

namespace rwproxy {
namespace {

TEST(HeadersTest, StripsHopByHopAndConnectionNamedHeaders) {
  http::fields f;
  f.set(http::field::connection, "keep-alive, X-Secret");
  f.set("X-Secret", "1");
  f.set(http::field::keep_alive, "timeout=5");
  f.set(http::field::te, "trailers");
  f.set(http::field::upgrade, "websocket");
  f.set(http::field::transfer_encoding, "chunked");
  f.set(http::field::content_type, "text/plain");
  StripHopByHop(&f);
  EXPECT_EQ(f.find("X-Secret"), f.end());
  EXPECT_EQ(f.find(http::field::connection), f.end());
  EXPECT_EQ(f.find(http::field::keep_alive), f.end());
  EXPECT_EQ(f.find(http::field::te), f.end());
  EXPECT_EQ(f.find(http::field::upgrade), f.end());
  EXPECT_EQ(f.find(http::field::transfer_encoding), f.end());
  EXPECT_EQ(f[http::field::content_type], "text/plain");
}

TEST(HeadersTest, UpstreamRequestGetsForwardedHeadersAndNewTarget) {
  http::request_header<> head;
  head.method(http::verb::get);
  head.target("/api/x");
  head.version(10);
  head.set(http::field::host, "example.com");
  head.set("X-Forwarded-For", "10.0.0.1");
  head.set(http::field::expect, "100-continue");
  PrepareUpstreamRequest(&head, "/x", std::nullopt, "127.0.0.9", "app:80", std::nullopt, false);
  EXPECT_EQ(head.target(), "/x");
  EXPECT_EQ(head.version(), 11u);
  EXPECT_EQ(head[http::field::host], "example.com");
  EXPECT_EQ(head["X-Forwarded-For"], "10.0.0.1, 127.0.0.9");
  EXPECT_EQ(head["X-Forwarded-Proto"], "http");
  EXPECT_EQ(head.find(http::field::expect), head.end());
}

TEST(HeadersTest, HostRewriteAndDefaultHost) {
  http::request_header<> head;
  head.version(10);  // HTTP/1.0 client without Host
  PrepareUpstreamRequest(&head, "/", std::nullopt, "1.2.3.4", "127.0.0.1:8081", 12, false);
  EXPECT_EQ(head[http::field::host], "127.0.0.1:8081");
  EXPECT_EQ(head[http::field::content_length], "12");
  PrepareUpstreamRequest(&head, "/", std::string_view("internal.svc"), "1.2.3.4", "x", std::nullopt,
                         true);
  EXPECT_EQ(head[http::field::host], "internal.svc");
  EXPECT_EQ(head[http::field::transfer_encoding], "chunked");
}

TEST(HeadersTest, DownstreamResponseFraming) {
  http::response_header<> head;
  head.set(http::field::transfer_encoding, "chunked");
  EXPECT_TRUE(PrepareDownstreamResponse(&head, 11, true, true, std::nullopt));
  EXPECT_EQ(head[http::field::transfer_encoding], "chunked");

  http::response_header<> old_client;
  EXPECT_FALSE(PrepareDownstreamResponse(&old_client, 10, true, true, std::nullopt));

  http::response_header<> closing;
  EXPECT_FALSE(PrepareDownstreamResponse(&closing, 11, false, true, 5));
  EXPECT_EQ(closing[http::field::connection], "close");
  EXPECT_EQ(closing[http::field::content_length], "5");
}

TEST(HeadersTest, KeepAliveHint) {
  http::fields f;
  EXPECT_EQ(KeepAliveHint(f).count(), 0);
  f.set(http::field::keep_alive, "max=100, timeout=5");
  EXPECT_EQ(KeepAliveHint(f).count(), 5000);
  f.set(http::field::keep_alive, "timeout=abc");
  EXPECT_EQ(KeepAliveHint(f).count(), 0);
}

TEST(HeadersTest, IdempotentMethods) {
  EXPECT_TRUE(IsIdempotent(http::verb::get));
  EXPECT_TRUE(IsIdempotent(http::verb::put));
  EXPECT_FALSE(IsIdempotent(http::verb::post));
  EXPECT_FALSE(IsIdempotent(http::verb::patch));
}

}  // namespace
}  // namespace rwproxy
