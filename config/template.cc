#include "config/template.h"

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"

namespace rwproxy {
namespace {

absl::Status Bad(std::string_view text, const std::string& message) {
  return absl::InvalidArgumentError(
      absl::StrCat(message, " (template '", absl::string_view(text.data(), text.size()), "')"));
}

std::string Groups(int n) { return absl::StrCat(n, n == 1 ? " group" : " groups"); }

// True for a byte that may stand as it is in a request target (RFC 3986 unreserved, sub-delims,
// ':', '@', '/', '?' and '%').
bool UrlSafe(unsigned char c) {
  if (c <= 0x20 || c >= 0x7f) return false;
  switch (c) {
    case '"':
    case '#':
    case '<':
    case '>':
    case '\\':
    case '^':
    case '`':
    case '{':
    case '|':
    case '}':
      return false;
    default:
      return true;
  }
}

// True when a '/'-separated segment of `value` is "." or "..", written with dots or %2E.
bool HasDotSegment(std::string_view value) {
  size_t start = 0;
  while (start <= value.size()) {
    size_t end = value.find('/', start);
    if (end == std::string_view::npos) end = value.size();
    int dots = 0;
    bool only_dots = end > start;
    for (size_t i = start; i < end && only_dots;) {
      if (value[i] == '.') {
        ++dots;
        ++i;
      } else if (value[i] == '%' && i + 2 < end && value[i + 1] == '2' &&
                 (value[i + 2] == 'e' || value[i + 2] == 'E')) {
        ++dots;
        i += 3;
      } else {
        only_dots = false;
      }
    }
    if (only_dots && dots <= 2) return true;
    start = end + 1;
  }
  return false;
}

void AppendEncoded(std::string_view value, bool in_query, std::string* out) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  for (char c : value) {
    const auto b = static_cast<unsigned char>(c);
    if (UrlSafe(b) && (in_query || c != '?')) {
      out->push_back(c);
    } else {
      out->push_back('%');
      out->push_back(kHex[b >> 4]);
      out->push_back(kHex[b & 0xf]);
    }
  }
}

}  // namespace

absl::StatusOr<RewriteTemplate> RewriteTemplate::Parse(std::string_view text, int max_group,
                                                       int max_condition_group) {
  RewriteTemplate t;
  std::string literal;
  const bool percent_refs = max_condition_group >= 0;
  for (size_t i = 0; i < text.size(); ++i) {
    char c = text[i];
    if (c == '?') t.contains_query_ = true;
    if (c != '$' && (c != '%' || !percent_refs)) {
      literal.push_back(c);
      continue;
    }
    if (i + 1 >= text.size()) {
      return Bad(text, absl::StrCat("'", std::string(1, c), "' at the end; write ",
                                    std::string(2, c), " for a literal '", std::string(1, c), "'"));
    }
    char next = text[++i];
    if (next == c) {
      literal.push_back(c);
      continue;
    }
    if (next < '0' || next > '9') {
      return Bad(text, absl::StrCat("'", std::string(1, c), std::string(1, next), "' is not ",
                                    std::string(1, c), "0..", std::string(1, c), "9 or ",
                                    std::string(2, c)));
    }
    const int group = next - '0';
    if (c == '$' && group > max_group) {
      return Bad(text,
                 absl::StrCat("$", group, " refers to a group the match does not have (it has ",
                              Groups(max_group), ")"));
    }
    if (c == '%' && group > max_condition_group) {
      return Bad(text, absl::StrCat("%", group, " but the last regex condition has ",
                                    Groups(max_condition_group)));
    }
    t.pieces_.push_back(Piece{std::move(literal), group, c == '%', t.contains_query_});
    literal.clear();
  }
  if (!literal.empty()) t.pieces_.push_back(Piece{std::move(literal), -1, false});
  return t;
}

bool RewriteTemplate::Expand(const std::string_view* groups, int group_count,
                             const std::string_view* condition_groups, int condition_group_count,
                             std::string* out) const {
  for (const Piece& piece : pieces_) {
    out->append(piece.literal);
    if (piece.group < 0) continue;
    if (!piece.condition) {
      if (piece.group < group_count) out->append(groups[piece.group]);
    } else if (piece.group < condition_group_count) {
      const std::string_view value = condition_groups[piece.group];
      if (!piece.in_query && HasDotSegment(value)) return false;
      AppendEncoded(value, piece.in_query, out);
    }
  }
  return true;
}

}  // namespace rwproxy
