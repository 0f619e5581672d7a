// Number formatting shared by the server's messages and rwctl's output, so both say the same
// thing the same way: "12,410 requests", "0.02% errors", "after 6.1 s".
//
// Ownership: free functions. Thread-safety: reentrant; any thread.
#ifndef RWPROXY_CONFIG_NUMBERS_H_
#define RWPROXY_CONFIG_NUMBERS_H_

#include <cstdint>
#include <string>

#include "absl/strings/str_format.h"

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

// An error ratio as a percentage: two decimals below 1% ("0.02%", "0.00%"), else one ("38.0%").
inline std::string ErrorPercent(double ratio) {
  const double percent = ratio * 100;
  return absl::StrFormat(percent < 1 ? "%.2f%%" : "%.1f%%", percent);
}

// Milliseconds as seconds with one decimal: 6100 -> "6.1 s".
inline std::string SecondsText(int64_t ms) {
  return absl::StrFormat("%.1f s", static_cast<double>(ms) / 1000);
}

}  // namespace rwproxy

#endif  // RWPROXY_CONFIG_NUMBERS_H_
