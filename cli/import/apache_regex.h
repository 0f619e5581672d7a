// PCRE (Apache's regex dialect) -> RE2 (rwproxy's) for `rwctl import apache`.
//
// What RE2 cannot do is refused with the construct named: back-references (\1..\9, \g, \k,
// (?P=name)), look-ahead and look-behind ((?= (?! (?<= (?<!), atomic groups (?>, possessive
// quantifiers (*+ ++ ?+ }+), \K, \G, recursion and subroutine calls ((?R) (?1) (?&name)),
// conditionals (?(, branch reset (?|, callouts (?C, backtracking verbs (*VERB) and extended mode
// (?x). A few spellings are translated: (?<name> and (?'name' -> (?P<name>, \Z -> \z (RE2 has
// no "before a final newline"; paths have no newline), (?#comments) are dropped. The result is
// then compiled with RE2 to be sure, within rwproxy's limits (program size, 9 groups).
//
// Ownership: free functions over caller-owned values. Thread-safety: reentrant; any thread.
#ifndef RWPROXY_CLI_IMPORT_APACHE_REGEX_H_
#define RWPROXY_CLI_IMPORT_APACHE_REGEX_H_

#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace rwproxy::cli::apache {

struct Re2Pattern {
  std::string pattern;         // RE2 syntax
  int groups = 0;              // capturing groups
  bool matches_empty = false;  // the pattern matches the empty string
};

// Converts `pcre`; `case_insensitive` compiles it as rwproxy will (the check only: the pattern
// text is not changed). An error message names what was refused, or RE2's complaint.
absl::StatusOr<Re2Pattern> PcreToRe2(absl::string_view pcre, bool case_insensitive = false);

// The literal a pattern such as ^www\.example\.com$ matches exactly (anchored both ends, no
// metacharacters but escaped ones); false when it is not that simple.
bool AnchoredLiteral(absl::string_view pcre, std::string* literal);

// RE2 source matching exactly `literal` (escaped).
std::string QuoteRegex(absl::string_view literal);

}  // namespace rwproxy::cli::apache

#endif  // RWPROXY_CLI_IMPORT_APACHE_REGEX_H_
