// The lean HTTP/1.1 codec: a message head parsed into spans over the connection's own buffer (no
// allocation, no copy, a fixed array of header spans as in HAProxy's h1 parser), and an
// incremental chunked-body decoder with bounded size lines, extensions and trailers.
//
// This is the syntax layer only (RFC 9112 §2-§5, §7.1): what is a well-formed line. What the
// fields mean for framing (Content-Length, Transfer-Encoding, Host, Connection) is decided in one
// place, server/http/framing.h.
//
// Free functions and a value-type decoder; no state shared between threads.
#ifndef RWPROXY_SERVER_HTTP_CODEC_H_
#define RWPROXY_SERVER_HTTP_CODEC_H_

#include <cstddef>
#include <cstdint>
#include <string_view>

namespace rwproxy {

// Bytes [off, off + len) of the buffer the head was parsed from.
struct Span {
  uint32_t off = 0;
  uint32_t len = 0;
  std::string_view In(const char* base) const { return {base + off, len}; }
  uint32_t end() const { return off + len; }
};

struct HeaderField {
  Span name;   // as received (case kept)
  Span value;  // without leading and trailing whitespace
  Span line;   // the whole line, CRLF included: what is forwarded when the field is kept
};

inline constexpr int kMaxHeaders = 100;        // fields of a response head; more: 502
// Fields of a request head (more: 431): fewer than kMaxHeaders, so that the head rwproxy sends
// upstream, with the fields it adds (Host, X-Forwarded-For, X-Forwarded-Proto, X-Request-Id,
// framing), is still within the limit it applies itself. Found by the forwarding fuzz target.
inline constexpr int kMaxRequestFields = kMaxHeaders - 5;
inline constexpr size_t kMaxHeadSize = 64 * 1024;  // more: 431

struct MessageHead {
  // Request line, or status line.
  Span method;
  Span target;
  int status = 0;
  Span reason;
  int version_minor = 1;  // HTTP/1.0 or HTTP/1.1
  Span start_line;        // without its CRLF
  int header_count = 0;
  HeaderField headers[kMaxHeaders];
  uint32_t size = 0;  // bytes of the head, leading empty lines and the final CRLF included
};

enum class ParseStatus { kIncomplete, kComplete, kError };

struct ParseError {
  int status = 400;          // 400, 431, 505 (requests); the response parser reports 502
  const char* reason = "";   // static text, for the local reply and the log
};

// Finds the end of a head in `data`: the offset just past its empty line, or 0 if the head is not
// complete yet. `*scanned` carries where the previous call stopped, so each byte is scanned about
// once. Bare LF line ends count here, so that the parser can see and reject them.
size_t FindHeadEnd(std::string_view data, size_t* scanned);

// Number of leading CRLF pairs ("\r\n") to skip before a request line (RFC 9112 §2.2).
size_t LeadingEmptyLines(std::string_view data);

// Parses a complete head (data ends at or after FindHeadEnd's offset). Strict: CRLF only, no bare
// CR, NUL or other controls, no whitespace before a colon, no obs-fold, token field names,
// HTTP/1.0 or HTTP/1.1 only, at most kMaxRequestFields (requests) or kMaxHeaders (responses)
// fields.
ParseStatus ParseRequestHead(std::string_view data, MessageHead* head, ParseError* error,
                             int max_fields = kMaxRequestFields);
ParseStatus ParseResponseHead(std::string_view data, MessageHead* head, ParseError* error);

// True for a token character (RFC 9110 §5.6.2).
bool IsTokenChar(unsigned char c);
bool EqualsIgnoreCase(std::string_view a, std::string_view b);

// Chunked transfer coding (RFC 9112 §7.1), decoded incrementally. Feed it whatever bytes arrived;
// it hands back body data as spans of the input and swallows sizes, extensions and trailers.
class ChunkedDecoder {
 public:
  static constexpr size_t kMaxSizeLine = 4096;      // chunk-size line with its extensions
  static constexpr size_t kMaxTrailerSection = 16 * 1024;

  enum class Result { kNeedMore, kData, kDone, kError };

  // Consumes bytes from the front of `in` (*consumed of them). kData: *data is a span of `in`
  // holding body bytes (call again for more). kNeedMore: all of `in` was consumed. kDone: the
  // last chunk and trailer section ended; bytes after it are not consumed. kError: reason().
  Result Next(std::string_view in, size_t* consumed, std::string_view* data);
  const char* reason() const { return reason_; }
  bool done() const { return state_ == State::kDone; }

 private:
  enum class State { kSize, kSizeLf, kExt, kData, kDataCr, kDataLf, kTrailer, kTrailerLf, kDone };
  Result Fail(const char* reason) {
    reason_ = reason;
    return Result::kError;
  }
  State state_ = State::kSize;
  uint64_t remaining_ = 0;  // data bytes left in this chunk, or the size being read
  int digits_ = 0;
  size_t line_ = 0;         // bytes of the current size or trailer line
  size_t trailer_ = 0;      // bytes of the trailer section
  bool last_ = false;       // the size line was 0
  const char* reason_ = "";
};

}  // namespace rwproxy

#endif  // RWPROXY_SERVER_HTTP_CODEC_H_
