// Debian's Abseil 20220623 is built with its own absl::string_view (ABSL_OPTION_USE_STD_STRING_VIEW
// is 0), which does not convert from std::string_view or Beast's string_view. Sv() bridges them.
// Free function; any thread.
#ifndef RWPROXY_SERVER_UTIL_SV_H_
#define RWPROXY_SERVER_UTIL_SV_H_

#include <string_view>

#include "absl/strings/string_view.h"

namespace rwproxy {

inline absl::string_view Sv(std::string_view s) { return absl::string_view(s.data(), s.size()); }

}  // namespace rwproxy

#endif  // RWPROXY_SERVER_UTIL_SV_H_
