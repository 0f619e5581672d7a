// A substitution template such as "/v2/$1?id=$2" or "https://docs.example.com$0", parsed once at
// config time into literal pieces and group references, so that expanding it on the request path
// is a few appends.
//
// Ownership: a value held by its CompiledRoute (inside an immutable Snapshot).
// Thread-safety: const methods may be called from any thread.
#ifndef RWPROXY_CONFIG_TEMPLATE_H_
#define RWPROXY_CONFIG_TEMPLATE_H_

#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"

namespace rwproxy {

class RewriteTemplate {
 public:
  // `$0`..`$9` refer to groups, `$$` is a literal '$'. Any group above `max_group` (the number of
  // capture groups the match offers) is an error, as is a '$' followed by anything else.
  static absl::StatusOr<RewriteTemplate> Parse(std::string_view text, int max_group);

  // Appends the expansion to *out. groups[i] is $i; a group that did not take part is empty.
  void Expand(const std::string_view* groups, int group_count, std::string* out) const;

  bool ContainsQuery() const { return contains_query_; }

 private:
  struct Piece {
    std::string literal;
    int group = -1;  // -1: literal only
  };
  std::vector<Piece> pieces_;
  bool contains_query_ = false;
};

}  // namespace rwproxy

#endif  // RWPROXY_CONFIG_TEMPLATE_H_
