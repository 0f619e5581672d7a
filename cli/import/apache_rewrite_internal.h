// Internals of the RewriteRule conversion shared by apache_rewrite.cc (flags, substitution,
// what a rule does) and apache_rewrite_routes.cc (its routes). Not for other callers.
//
// Ownership: value types and free functions. Thread-safety: one thread.
#ifndef RWPROXY_CLI_IMPORT_APACHE_REWRITE_INTERNAL_H_
#define RWPROXY_CLI_IMPORT_APACHE_REWRITE_INTERNAL_H_

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "cli/import/apache_model.h"

namespace rwproxy::cli::apache::rewrite_internal {

struct Flags {
  bool last = false, nc = false, proxy = false, forbidden = false, gone = false;
  bool qsa = false, qsd = false, pt = false, redirect = false;
  int status = 302;
  std::vector<std::string> notes;
};

// "[P,L,R=301]" -> Flags; an error names the flag that is not converted.
absl::Status ParseFlags(const std::string& text, Flags* f);

// A substitution's pieces, with the variables rwproxy can supply.
struct SPiece {
  enum class K { kLiteral, kPath, kCond, kHost, kUri, kQuery };
  K k = K::kLiteral;
  std::string text;
  int group = 0;
};

absl::StatusOr<std::vector<SPiece>> ParseSubst(const std::string& s);

// What a rule does, before its conditions are expanded into routes.
struct RuleShape {
  PlannedRoute route;              // the action set
  std::vector<SPiece> target;      // the path+query (proxy) or location (redirect) to build
  bool relative_redirect = false;  // [R] to a local path: Apache makes it absolute
  bool query_append = false;       // QSA or "&%{QUERY_STRING}" with a query in the target
  bool query_discard = false;      // QSD, or a target ending in '?'
};

// Decides what the rule does. False (with *why) when refused; *notes and *approximations
// collect what the report says about it. *exclusion: PATTERN - [L] (the
// later rules skip what it matches); a rule with no effect leaves route.action kRespond with
// status 0.
bool ShapeRule(const Flags& f, const std::string& subst, bool has_conds, RuleShape* shape,
               std::vector<std::string>* notes, std::vector<std::string>* approximations,
               bool* exclusion, std::string* why);

// Handles the target's query part: a trailing '?', %{QUERY_STRING}, QSA, QSD.
absl::Status ShapeQuery(const Flags& f, RuleShape* shape);

}  // namespace rwproxy::cli::apache::rewrite_internal

#endif  // RWPROXY_CLI_IMPORT_APACHE_REWRITE_INTERNAL_H_
