#include "server/http/path_normalize.h"

#include <vector>

namespace rwproxy {
namespace {

int Hex(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

bool IsUnreserved(unsigned char c) {
  return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '-' ||
         c == '.' || c == '_' || c == '~';
}

// Whether the path may need any work: a %-escape, a dot segment candidate, or a double slash.
bool MayChange(std::string_view path, bool merge_slashes) {
  for (size_t i = 0; i < path.size(); ++i) {
    char c = path[i];
    if (c == '%') return true;
    if (c == '/' && i + 1 < path.size()) {
      if (path[i + 1] == '.') return true;
      if (merge_slashes && path[i + 1] == '/') return true;
    }
  }
  return false;
}

}  // namespace

NormalizeResult NormalizePath(std::string_view path, const HttpSpec& options, std::string* out,
                              const char** reason) {
  if (!options.normalize_path && !options.merge_slashes &&
      options.escaped_slashes == EscapedSlashes::kKeep) {
    return NormalizeResult::kUnchanged;
  }
  if (path.empty() || path[0] != '/' || !MayChange(path, options.merge_slashes)) {
    return NormalizeResult::kUnchanged;
  }
  static constexpr char kHexDigits[] = "0123456789ABCDEF";
  std::string decoded;
  decoded.reserve(path.size());
  for (size_t i = 0; i < path.size(); ++i) {
    char c = path[i];
    if (c != '%') {
      decoded.push_back(c);
      continue;
    }
    int hi = i + 2 < path.size() ? Hex(path[i + 1]) : -1;
    int lo = hi >= 0 ? Hex(path[i + 2]) : -1;
    if (lo < 0) {
      *reason = "malformed percent-encoding in path";
      return NormalizeResult::kRejected;
    }
    unsigned char v = static_cast<unsigned char>(hi * 16 + lo);
    i += 2;
    if ((v == '/' || v == '\\') && options.escaped_slashes != EscapedSlashes::kDecode) {
      if (options.escaped_slashes == EscapedSlashes::kReject) {
        *reason = "encoded slash in path";
        return NormalizeResult::kRejected;
      }
    } else if (options.normalize_path && IsUnreserved(v)) {
      decoded.push_back(static_cast<char>(v));
      continue;
    } else if (v == '/' || v == '\\') {
      decoded.push_back(static_cast<char>(v));  // kDecode
      continue;
    }
    decoded.push_back('%');
    decoded.push_back(kHexDigits[v >> 4]);
    decoded.push_back(kHexDigits[v & 15]);
  }
  // Segments after the leading '/'; dot segments removed (RFC 3986 §5.2.4), empty ones merged on
  // request.
  std::vector<std::string_view> segments;
  std::string_view rest = std::string_view(decoded).substr(1);
  for (;;) {
    size_t slash = rest.find('/');
    std::string_view segment = rest.substr(0, slash);
    const bool last = slash == std::string_view::npos;
    if (options.normalize_path && (segment == "." || segment == "..")) {
      if (segment == ".." && !segments.empty()) segments.pop_back();
      if (last) segments.push_back({});
    } else if (options.merge_slashes && segment.empty() && !last) {
      // "//": dropped
    } else {
      segments.push_back(segment);
    }
    if (last) break;
    rest.remove_prefix(slash + 1);
  }
  std::string result = "/";
  for (size_t i = 0; i < segments.size(); ++i) {
    if (i > 0) result.push_back('/');
    result.append(segments[i]);
  }
  if (result == path) return NormalizeResult::kUnchanged;
  *out = std::move(result);
  return NormalizeResult::kChanged;
}

}  // namespace rwproxy
