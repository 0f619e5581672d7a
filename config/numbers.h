// Number formatting shared by the server's messages and rwctl's output, so both say the same
// thing the same way: "12,410 requests".
//
// Ownership: free functions. Thread-safety: reentrant; any thread.
#ifndef RWPROXY_CONFIG_NUMBERS_H_
#define RWPROXY_CONFIG_NUMBERS_H_

#include <cstdint>
#include <string>

namespace rwproxy {

// 1234567 -> "1,234,567".
inline std::string WithCommas(uint64_t n) {
  const std::string digits = std::to_string(n);
  std::string out;
  out.reserve(digits.size() + digits.size() / 3);
  for (size_t i = 0; i < digits.size(); ++i) {
    if (i > 0 && (digits.size() - i) % 3 == 0) out.push_back(',');
    out.push_back(digits[i]);
  }
  return out;
}

}  // namespace rwproxy

#endif  // RWPROXY_CONFIG_NUMBERS_H_
