// Path normalization before routing (RFC 3986 §6.2.2): percent-encoded unreserved characters are
// decoded, other %XX escapes get upper-case hex, dot segments are removed (§5.2.4), and, as
// options, slashes are merged and encoded slashes (%2F, %5C) kept, rejected or decoded (Envoy's
// normalize_path / merge_slashes / path_with_escaped_slashes_action). The normalized path is what
// routes match and what is forwarded, so "/public/../admin" cannot pass a rule on "/admin".
//
// Free function; no state.
#ifndef RWPROXY_SERVER_HTTP_PATH_NORMALIZE_H_
#define RWPROXY_SERVER_HTTP_PATH_NORMALIZE_H_

#include <string>
#include <string_view>

#include "config/spec.h"

namespace rwproxy {

enum class NormalizeResult { kUnchanged, kChanged, kRejected };

// Normalizes `path` (origin-form, no query) into *out. kUnchanged leaves *out untouched (use
// `path` itself: no allocation on the common path). kRejected: a malformed %-escape, or an
// encoded slash with EscapedSlashes::kReject; *reason says which.
NormalizeResult NormalizePath(std::string_view path, const HttpSpec& options, std::string* out,
                              const char** reason);

}  // namespace rwproxy

#endif  // RWPROXY_SERVER_HTTP_PATH_NORMALIZE_H_
