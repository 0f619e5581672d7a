#include "server/http/codec.h"

#include <algorithm>
#include <cstring>

namespace rwproxy {
namespace {

enum : uint8_t { kToken = 1, kFieldChar = 2, kTargetChar = 4, kHex = 8 };

struct CharTable {
  uint8_t bits[256] = {};
  constexpr CharTable() {
    for (int c = 0; c < 256; ++c) {
      bool alnum = (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
      if (alnum || (c != 0 && std::string_view("!#$%&'*+-.^_`|~").find(char(c)) !=
                                  std::string_view::npos)) {
        bits[c] |= kToken;
      }
      // field-vchar / obs-text, and SP / HTAB inside a value (RFC 9110 §5.5).
      if ((c >= 0x21 && c <= 0x7e) || c >= 0x80 || c == ' ' || c == '\t') bits[c] |= kFieldChar;
      if (c >= 0x21 && c <= 0x7e) bits[c] |= kTargetChar;
      if ((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F')) {
        bits[c] |= kHex;
      }
    }
  }
};
constexpr CharTable kChars;

inline bool Is(unsigned char c, uint8_t what) { return kChars.bits[c] & what; }

int HexValue(unsigned char c) {
  if (c <= '9') return c - '0';
  return (c | 0x20) - 'a' + 10;
}

ParseStatus Fail(ParseError* error, int status, const char* reason) {
  error->status = status;
  error->reason = reason;
  return ParseStatus::kError;
}

// Expects CRLF at data[p]; advances p past it.
ParseStatus LineEnd(std::string_view data, size_t* p, ParseError* error, int status) {
  if (*p >= data.size()) return ParseStatus::kIncomplete;
  if (data[*p] == '\n') return Fail(error, status, "bare LF line ending");
  if (data[*p] != '\r') return Fail(error, status, "invalid character in start line");
  if (*p + 1 >= data.size()) return ParseStatus::kIncomplete;
  if (data[*p + 1] != '\n') return Fail(error, status, "bare CR");
  *p += 2;
  return ParseStatus::kComplete;
}

// "HTTP/1.x" at data[p]; sets the minor version.
ParseStatus Version(std::string_view data, size_t* p, MessageHead* head, ParseError* error,
                    int bad_status, int unsupported_status) {
  if (data.size() - *p < 8) return ParseStatus::kIncomplete;
  std::string_view v = data.substr(*p, 8);
  if (v.substr(0, 5) != "HTTP/" || !(v[5] >= '0' && v[5] <= '9') || v[6] != '.' ||
      !(v[7] >= '0' && v[7] <= '9')) {
    return Fail(error, bad_status, "invalid HTTP version");
  }
  if (v[5] != '1' || (v[7] != '0' && v[7] != '1')) {
    return Fail(error, unsupported_status, "HTTP version not supported");
  }
  head->version_minor = v[7] - '0';
  *p += 8;
  return ParseStatus::kComplete;
}

ParseStatus Fields(std::string_view data, size_t p, MessageHead* head, ParseError* error,
                   int status, int max_fields) {
  const auto* bytes = reinterpret_cast<const unsigned char*>(data.data());
  const size_t n = data.size();
  head->header_count = 0;
  for (;;) {
    if (p >= n) return ParseStatus::kIncomplete;
    if (bytes[p] == '\r') {
      if (p + 1 >= n) return ParseStatus::kIncomplete;
      if (bytes[p + 1] != '\n') return Fail(error, status, "bare CR");
      head->size = static_cast<uint32_t>(p + 2);
      return ParseStatus::kComplete;
    }
    if (bytes[p] == '\n') return Fail(error, status, "bare LF line ending");
    if (bytes[p] == ' ' || bytes[p] == '\t') {
      return Fail(error, status, "obs-fold or whitespace before a field name");
    }
    const size_t line = p;
    while (p < n && Is(bytes[p], kToken)) ++p;
    if (p >= n) return ParseStatus::kIncomplete;
    if (p == line) return Fail(error, status, "invalid character in field name");
    if (bytes[p] != ':') {
      return Fail(error, status,
                  bytes[p] == ' ' || bytes[p] == '\t' ? "whitespace before colon"
                                                      : "invalid character in field name");
    }
    if (head->header_count == max_fields) {
      return Fail(error, status == 400 ? 431 : status, "too many header fields");
    }
    HeaderField& field = head->headers[head->header_count++];
    field.name = {static_cast<uint32_t>(line), static_cast<uint32_t>(p - line)};
    ++p;
    while (p < n && (bytes[p] == ' ' || bytes[p] == '\t')) ++p;
    const size_t value = p;
    while (p < n && Is(bytes[p], kFieldChar)) ++p;
    size_t value_end = p;
    while (value_end > value && (bytes[value_end - 1] == ' ' || bytes[value_end - 1] == '\t')) {
      --value_end;
    }
    if (p >= n) return ParseStatus::kIncomplete;
    if (bytes[p] == '\n') return Fail(error, status, "bare LF in field");
    if (bytes[p] != '\r') return Fail(error, status, "invalid character in field value");
    if (p + 1 >= n) return ParseStatus::kIncomplete;
    if (bytes[p + 1] != '\n') return Fail(error, status, "bare CR in field");
    p += 2;
    field.value = {static_cast<uint32_t>(value), static_cast<uint32_t>(value_end - value)};
    field.line = {static_cast<uint32_t>(line), static_cast<uint32_t>(p - line)};
  }
}

#define RW_RETURN_UNLESS_COMPLETE(expr)                    \
  do {                                                     \
    ParseStatus rw_status = (expr);                        \
    if (rw_status != ParseStatus::kComplete) return rw_status; \
  } while (0)

}  // namespace

bool IsTokenChar(unsigned char c) { return Is(c, kToken); }

bool EqualsIgnoreCase(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    unsigned char x = a[i], y = b[i];
    if (x != y && ((x | 0x20) != (y | 0x20) || !((x | 0x20) >= 'a' && (x | 0x20) <= 'z'))) {
      return false;
    }
  }
  return true;
}

size_t FindHeadEnd(std::string_view data, size_t* scanned) {
  size_t i = *scanned;
  while (i < data.size()) {
    const void* hit = std::memchr(data.data() + i, '\n', data.size() - i);
    if (!hit) break;
    i = static_cast<const char*>(hit) - data.data();
    if (i == 0 || data[i - 1] == '\n' || (i >= 2 && data[i - 1] == '\r' && data[i - 2] == '\n') ||
        (i == 1 && data[0] == '\r')) {
      *scanned = i + 1;
      return i + 1;
    }
    ++i;
  }
  *scanned = data.size();
  return 0;
}

size_t LeadingEmptyLines(std::string_view data) {
  size_t p = 0;
  while (p + 1 < data.size() && data[p] == '\r' && data[p + 1] == '\n') p += 2;
  return p;
}

ParseStatus ParseRequestHead(std::string_view data, MessageHead* head, ParseError* error,
                             int max_fields) {
  const auto* bytes = reinterpret_cast<const unsigned char*>(data.data());
  size_t p = LeadingEmptyLines(data);
  const size_t start = p;
  while (p < data.size() && Is(bytes[p], kToken)) ++p;
  if (p >= data.size()) return ParseStatus::kIncomplete;
  if (p == start || bytes[p] != ' ') return Fail(error, 400, "invalid request line");
  head->method = {static_cast<uint32_t>(start), static_cast<uint32_t>(p - start)};
  const size_t target = ++p;
  while (p < data.size() && Is(bytes[p], kTargetChar)) ++p;
  if (p >= data.size()) return ParseStatus::kIncomplete;
  if (p == target || bytes[p] != ' ') return Fail(error, 400, "invalid request target");
  head->target = {static_cast<uint32_t>(target), static_cast<uint32_t>(p - target)};
  ++p;
  RW_RETURN_UNLESS_COMPLETE(Version(data, &p, head, error, 400, 505));
  head->start_line = {static_cast<uint32_t>(start), static_cast<uint32_t>(p - start)};
  RW_RETURN_UNLESS_COMPLETE(LineEnd(data, &p, error, 400));
  return Fields(data, p, head, error, 400, std::min(max_fields, kMaxHeaders));
}

ParseStatus ParseResponseHead(std::string_view data, MessageHead* head, ParseError* error) {
  const auto* bytes = reinterpret_cast<const unsigned char*>(data.data());
  size_t p = 0;
  RW_RETURN_UNLESS_COMPLETE(Version(data, &p, head, error, 502, 502));
  if (data.size() - p < 4) return ParseStatus::kIncomplete;
  if (bytes[p] != ' ' || !(bytes[p + 1] >= '1' && bytes[p + 1] <= '5') ||
      !(bytes[p + 2] >= '0' && bytes[p + 2] <= '9') ||
      !(bytes[p + 3] >= '0' && bytes[p + 3] <= '9')) {
    return Fail(error, 502, "invalid status line");
  }
  head->status = (bytes[p + 1] - '0') * 100 + (bytes[p + 2] - '0') * 10 + (bytes[p + 3] - '0');
  p += 4;
  size_t reason = p;
  if (p < data.size() && bytes[p] == ' ') {
    reason = ++p;
    while (p < data.size() && Is(bytes[p], kFieldChar)) ++p;
  }
  head->reason = {static_cast<uint32_t>(reason), static_cast<uint32_t>(p - reason)};
  head->start_line = {0, static_cast<uint32_t>(p)};
  RW_RETURN_UNLESS_COMPLETE(LineEnd(data, &p, error, 502));
  return Fields(data, p, head, error, 502, kMaxHeaders);
}

ChunkedDecoder::Result ChunkedDecoder::Next(std::string_view in, size_t* consumed,
                                            std::string_view* data) {
  const auto* bytes = reinterpret_cast<const unsigned char*>(in.data());
  size_t p = 0;
  while (p < in.size()) {
    const unsigned char c = bytes[p];
    switch (state_) {
      case State::kSize:
        if (++line_ > kMaxSizeLine) return Fail("chunk size line too long");
        if (Is(c, kHex)) {
          if (++digits_ > 16) return Fail("chunk size too large");
          remaining_ = remaining_ * 16 + HexValue(c);
        } else if (digits_ == 0) {
          return Fail("invalid chunk size");
        } else if (c == '\r') {
          state_ = State::kSizeLf;
        } else if (c == ';' || c == ' ' || c == '\t') {
          state_ = State::kExt;
        } else {
          return Fail(c == '\n' ? "bare LF after chunk size" : "invalid chunk size");
        }
        ++p;
        break;
      case State::kExt:
        if (++line_ > kMaxSizeLine) return Fail("chunk extension too long");
        if (c == '\r') {
          state_ = State::kSizeLf;
        } else if (!Is(c, kFieldChar)) {
          return Fail(c == '\n' ? "bare LF after chunk size" : "invalid chunk extension");
        }
        ++p;
        break;
      case State::kSizeLf:
        if (c != '\n') return Fail("bare CR after chunk size");
        ++p;
        line_ = 0;
        digits_ = 0;
        if (remaining_ == 0) {
          state_ = State::kTrailer;
        } else {
          state_ = State::kData;
        }
        break;
      case State::kData: {
        size_t n = in.size() - p;
        if (n > remaining_) n = static_cast<size_t>(remaining_);
        *data = in.substr(p, n);
        remaining_ -= n;
        if (remaining_ == 0) state_ = State::kDataCr;
        *consumed = p + n;
        return Result::kData;
      }
      case State::kDataCr:
        if (c != '\r') return Fail("chunk data not followed by CRLF");
        state_ = State::kDataLf;
        ++p;
        break;
      case State::kDataLf:
        if (c != '\n') return Fail("chunk data not followed by CRLF");
        state_ = State::kSize;
        ++p;
        break;
      case State::kTrailer:
        if (++trailer_ > kMaxTrailerSection) return Fail("trailer section too large");
        if (c == '\r') {
          last_ = line_ == 0;  // an empty line ends the trailer section
          state_ = State::kTrailerLf;
        } else if (c == '\n') {
          return Fail("bare LF in trailer section");
        } else if (!Is(c, kFieldChar)) {
          return Fail("invalid character in trailer section");
        } else {
          ++line_;
        }
        ++p;
        break;
      case State::kTrailerLf:
        if (c != '\n') return Fail("bare CR in trailer section");
        ++p;
        line_ = 0;
        if (last_) {
          state_ = State::kDone;
          *consumed = p;
          return Result::kDone;
        }
        state_ = State::kTrailer;
        break;
      case State::kDone:
        *consumed = p;
        return Result::kDone;
    }
  }
  *consumed = p;
  return state_ == State::kDone ? Result::kDone : Result::kNeedMore;
}

}  // namespace rwproxy
