#include "config/template.h"

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"

namespace rwproxy {

absl::StatusOr<RewriteTemplate> RewriteTemplate::Parse(std::string_view text, int max_group) {
  RewriteTemplate t;
  std::string literal;
  for (size_t i = 0; i < text.size(); ++i) {
    char c = text[i];
    if (c == '?') t.contains_query_ = true;
    if (c != '$') {
      literal.push_back(c);
      continue;
    }
    if (i + 1 >= text.size()) {
      return absl::InvalidArgumentError("'$' at the end; write $$ for a literal '$'");
    }
    char next = text[++i];
    if (next == '$') {
      literal.push_back('$');
      continue;
    }
    if (next < '0' || next > '9') {
      return absl::InvalidArgumentError(
          absl::StrCat("'$", std::string(1, next), "' is not $0..$9 or $$"));
    }
    int group = next - '0';
    if (group > max_group) {
      return absl::InvalidArgumentError(absl::StrCat(
          "$", group, " refers to a group the match does not have (it has ", max_group,
          max_group == 1 ? " group" : " groups", ")"));
    }
    t.pieces_.push_back(Piece{std::move(literal), group});
    literal.clear();
  }
  if (!literal.empty()) t.pieces_.push_back(Piece{std::move(literal), -1});
  return t;
}

void RewriteTemplate::Expand(const std::string_view* groups, int group_count,
                             std::string* out) const {
  for (const Piece& piece : pieces_) {
    out->append(piece.literal);
    if (piece.group >= 0 && piece.group < group_count) out->append(groups[piece.group]);
  }
}

}  // namespace rwproxy
