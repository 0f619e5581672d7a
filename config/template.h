// A substitution template such as "/v2/$1?id=$2", "https://docs.example.com$0" or "/m/%1/$1",
// parsed once at config time into literal pieces and group references, so that expanding it on
// the request path is a few appends.
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
  // Parse's `max_condition_group` when the route has no regex condition: '%' is then literal.
  static constexpr int kNoConditionGroups = -1;

  // `$0`..`$9` refer to the path match's groups, `$$` is a literal '$'. Any group above
  // `max_group` (the number of capture groups the path match offers) is an error, as is a '$'
  // followed by anything else.
  //
  // When `max_condition_group` >= 0 (the route has a regex condition on a header or the query;
  // its number of groups), `%0`..`%9` refer to that condition's groups (%0 = its whole match) and
  // `%%` is a literal '%'; a '%' followed by anything else, or a group above it, is an error.
  // With kNoConditionGroups every '%' is literal, so "%20" in older templates keeps its meaning.
  // Error messages quote the template.
  static absl::StatusOr<RewriteTemplate> Parse(std::string_view text, int max_group,
                                               int max_condition_group = kNoConditionGroups);

  // Appends the expansion to *out. groups[i] is $i and condition_groups[i] is %i; a group that
  // did not take part (or is beyond the count given) is empty. %N values come from header or
  // query bytes, so each byte that may not appear in a request target (controls, space, DEL,
  // non-ASCII, and " # < > \ ^ ` { | }) is written percent-encoded; in the path part (before the
  // template's first '?') '?' too, so a value cannot start a query. Returns false, with *out
  // unspecified, when a %N value in the path part holds a dot segment ("..", ".", "%2e%2e" between
  // slashes): the path was routed normalized, and a client-chosen "../" must not move it
  // elsewhere upstream.
  [[nodiscard]] bool Expand(const std::string_view* groups, int group_count,
                            const std::string_view* condition_groups, int condition_group_count,
                            std::string* out) const;
  void Expand(const std::string_view* groups, int group_count, std::string* out) const {
    (void)Expand(groups, group_count, nullptr, 0, out);  // $N only: always true
  }

  // True when the template text has a '?' (it writes its own query string).
  bool ContainsQuery() const { return contains_query_; }

 private:
  struct Piece {
    std::string literal;
    int group = -1;          // -1: literal only
    bool condition = false;  // `group` is %N rather than $N
    bool in_query = false;   // after the template's first '?'
  };
  std::vector<Piece> pieces_;
  bool contains_query_ = false;
};

}  // namespace rwproxy

#endif  // RWPROXY_CONFIG_TEMPLATE_H_
