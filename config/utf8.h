// UTF-8 validity: proto3 `string` fields must hold valid UTF-8, or protobuf refuses to parse the
// message that carries them (a config sent over gRPC, a violation in a response). The YAML parser
// rejects invalid strings; the control service sanitizes text it did not check itself.
//
// Ownership: free functions over values. Thread-safety: reentrant; any thread.
#ifndef RWPROXY_CONFIG_UTF8_H_
#define RWPROXY_CONFIG_UTF8_H_

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace rwproxy::utf8 {

// The length of the valid UTF-8 sequence `s` starts with (1 to 4; shortest form, no surrogates,
// at most U+10FFFF); 0 when it does not start with one (or is empty).
inline size_t SequenceLength(std::string_view s) {
  if (s.empty()) return 0;
  const auto b0 = static_cast<unsigned char>(s[0]);
  if (b0 < 0x80) return 1;
  size_t n = 0;
  uint32_t min = 0;
  if ((b0 & 0xE0) == 0xC0) {
    n = 2, min = 0x80;
  } else if ((b0 & 0xF0) == 0xE0) {
    n = 3, min = 0x800;
  } else if ((b0 & 0xF8) == 0xF0) {
    n = 4, min = 0x10000;
  } else {
    return 0;
  }
  if (s.size() < n) return 0;
  uint32_t cp = b0 & (0x7F >> n);
  for (size_t i = 1; i < n; ++i) {
    const auto b = static_cast<unsigned char>(s[i]);
    if ((b & 0xC0) != 0x80) return 0;
    cp = (cp << 6) | (b & 0x3F);
  }
  if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return 0;
  return n;
}

// The offset of the first byte that is not part of valid UTF-8; npos when all of `s` is valid.
inline size_t FirstInvalid(std::string_view s) {
  for (size_t at = 0; at < s.size();) {
    const size_t n = SequenceLength(s.substr(at));
    if (n == 0) return at;
    at += n;
  }
  return std::string_view::npos;
}

inline bool IsValid(std::string_view s) { return FirstInvalid(s) == std::string_view::npos; }

// `s` with every byte that is not part of valid UTF-8 replaced by '?'.
inline std::string Sanitize(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  while (!s.empty()) {
    const size_t n = SequenceLength(s);
    if (n == 0) {
      out.push_back('?');
      s.remove_prefix(1);
    } else {
      out.append(s.substr(0, n));
      s.remove_prefix(n);
    }
  }
  return out;
}

}  // namespace rwproxy::utf8

#endif  // RWPROXY_CONFIG_UTF8_H_
