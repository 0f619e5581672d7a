// The codec's syntax rules and limits (server/http/codec.h), with exact bytes.
#include "server/http/codec.h"

#include <string>

#include "gtest/gtest.h"

namespace rwproxy {
namespace {

// Feeds `input` to a decoder in pieces of `step` bytes; returns the decoded body, or "ERROR:
// reason". *rest gets the bytes after the body.
std::string Decode(const std::string& input, size_t step, std::string* rest = nullptr) {
  ChunkedDecoder decoder;
  std::string body;
  std::string pending;
  for (size_t at = 0; at < input.size() || !pending.empty();) {
    if (at < input.size()) {
      pending += input.substr(at, step);
      at += step;
    }
    std::string_view view = pending;
    for (;;) {
      size_t consumed = 0;
      std::string_view data;
      auto result = decoder.Next(view, &consumed, &data);
      if (result == ChunkedDecoder::Result::kError) return std::string("ERROR: ") + decoder.reason();
      if (result == ChunkedDecoder::Result::kData) body.append(data);
      view.remove_prefix(consumed);
      if (result == ChunkedDecoder::Result::kDone) {
        if (rest) *rest = std::string(view) + input.substr(std::min(at, input.size()));
        return body;
      }
      if (result == ChunkedDecoder::Result::kNeedMore) break;
    }
    pending.assign(view);
    if (at >= input.size()) break;
  }
  return "INCOMPLETE: " + body;
}

TEST(ChunkedDecoderTest, DecodesAndLeavesWhatFollows) {
  std::string rest;
  std::string input = "5\r\nhello\r\n6;ext=1\r\n world\r\n0\r\nTrailer: x\r\n\r\nGET / HTTP/1.1\r\n";
  for (size_t step : {1, 2, 3, 7, 1000}) {
    EXPECT_EQ(Decode(input, step, &rest), "hello world") << step;
    EXPECT_EQ(rest, "GET / HTTP/1.1\r\n") << step;
  }
}

TEST(ChunkedDecoderTest, RejectsAmbiguousFraming) {
  EXPECT_EQ(Decode("5\nhello\r\n0\r\n\r\n", 100), "ERROR: bare LF after chunk size");
  EXPECT_EQ(Decode("0\r\n\n", 100), "ERROR: bare LF in trailer section");  // last chunk, bare LF
  EXPECT_EQ(Decode("5\r\nhelloX\r\n0\r\n\r\n", 100), "ERROR: chunk data not followed by CRLF");
  EXPECT_EQ(Decode("-5\r\nhello\r\n", 100), "ERROR: invalid chunk size");
  EXPECT_EQ(Decode("0x5\r\nhello\r\n", 100), "ERROR: invalid chunk size");
  EXPECT_EQ(Decode("10000000000000000\r\n", 100), "ERROR: chunk size too large");
  EXPECT_EQ(Decode("5\r\nhello\r\n0\r\nX: a\rb\r\n\r\n", 100), "ERROR: bare CR in trailer section");
}

TEST(ChunkedDecoderTest, BoundsExtensionsAndTrailers) {
  std::string long_ext = "1;" + std::string(5000, 'a') + "\r\nx\r\n0\r\n\r\n";
  EXPECT_EQ(Decode(long_ext, 512), "ERROR: chunk extension too long");
  std::string long_trailer = "0\r\n" + std::string(20000, 'a') + "\r\n\r\n";
  EXPECT_EQ(Decode(long_trailer, 512), "ERROR: trailer section too large");
  std::string many_zeros = std::string(5000, '0') + "1\r\nx\r\n0\r\n\r\n";
  EXPECT_EQ(Decode(many_zeros, 512), "ERROR: chunk size too large");
}

TEST(HeadParserTest, RecordsSpansIntoTheBuffer) {
  std::string raw = "POST /a?b HTTP/1.1\r\nHost: h\r\nX-Pad:  v v \t\r\n\r\nbody";
  MessageHead head;
  ParseError error;
  ASSERT_EQ(ParseRequestHead(raw, &head, &error), ParseStatus::kComplete);
  EXPECT_EQ(head.method.In(raw.data()), "POST");
  EXPECT_EQ(head.target.In(raw.data()), "/a?b");
  EXPECT_EQ(head.header_count, 2);
  EXPECT_EQ(head.headers[1].value.In(raw.data()), "v v");  // OWS trimmed on both sides
  EXPECT_EQ(head.headers[1].line.In(raw.data()), "X-Pad:  v v \t\r\n");
  EXPECT_EQ(head.size, raw.size() - 4);
}

TEST(HeadParserTest, LimitsHeaderCount) {
  std::string raw = "GET / HTTP/1.1\r\n";
  for (int i = 0; i <= kMaxHeaders; ++i) raw += "X-" + std::to_string(i) + ": v\r\n";
  raw += "\r\n";
  MessageHead head;
  ParseError error;
  ASSERT_EQ(ParseRequestHead(raw, &head, &error), ParseStatus::kError);
  EXPECT_EQ(error.status, 431);
}

TEST(HeadParserTest, IncompleteUntilTheEmptyLine) {
  MessageHead head;
  ParseError error;
  EXPECT_EQ(ParseRequestHead("GET / HTTP/1.1\r\nHost: a\r\n", &head, &error),
            ParseStatus::kIncomplete);
  EXPECT_EQ(ParseRequestHead("GET / HTT", &head, &error), ParseStatus::kIncomplete);
}

TEST(HeadParserTest, FindHeadEndScansIncrementallyAndSeesBareLf) {
  size_t scanned = 0;
  std::string raw = "GET / HTTP/1.1\r\nHost: a\r\n";
  EXPECT_EQ(FindHeadEnd(raw, &scanned), 0u);
  raw += "\r\nnext";
  EXPECT_EQ(FindHeadEnd(raw, &scanned), raw.size() - 4);
  scanned = 0;
  EXPECT_EQ(FindHeadEnd("GET / HTTP/1.1\nHost: a\n\n", &scanned), 24u);
}

}  // namespace
}  // namespace rwproxy
