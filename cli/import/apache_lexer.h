// The lexical layer of `rwctl import apache`: httpd's logical lines (backslash continuation,
// '#' comment lines) and its two ways of splitting arguments: ap_getword_conf (most directives:
// whitespace-separated words, "double" or 'single' quoted words with \" and \\ escapes) and
// mod_rewrite's own parseargline (RewriteRule, RewriteCond: quotes, and a backslash protects a
// following space; every other backslash is kept for the regex).
//
// Ownership: free functions over caller-owned values. Thread-safety: reentrant; any thread.
#ifndef RWPROXY_CLI_IMPORT_APACHE_LEXER_H_
#define RWPROXY_CLI_IMPORT_APACHE_LEXER_H_

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace rwproxy::cli::apache {

// One logical line: physical lines joined where one ends with a backslash (the backslash is
// removed), leading and trailing whitespace trimmed. `line` is the 1-based number of its first
// physical line. Comment lines (first non-blank character '#') and blank lines are dropped.
struct LogicalLine {
  int line = 0;
  std::string text;
};

// A logical line longer than this is an error (httpd's own limit is 16 KiB per physical line).
inline constexpr size_t kMaxLogicalLine = 64 * 1024;

// Splits a config file into logical lines. Fails (naming the line) on a NUL byte or a logical
// line over kMaxLogicalLine.
absl::StatusOr<std::vector<LogicalLine>> SplitLogicalLines(absl::string_view text);

// httpd's ap_getword_conf applied repeatedly: the arguments of an ordinary directive. An
// unterminated quote is an error (httpd silently takes the rest of the line).
absl::StatusOr<std::vector<std::string>> SplitArgs(absl::string_view text);

// mod_rewrite's parseargline for RewriteRule and RewriteCond: two or three arguments.
absl::StatusOr<std::vector<std::string>> SplitRewriteArgs(absl::string_view text);

// A line of the form "<Name args>" or "</Name>".
struct SectionTag {
  bool closing = false;
  std::string name;  // as written
  std::string args;  // the text between the name and the '>', trimmed (opening tags only)
};

// Parses a logical line that starts with '<'. Fails when the '>' is missing or the name empty.
absl::StatusOr<SectionTag> ParseSectionTag(absl::string_view text);

// Splits "Name rest of line" at the first whitespace.
void SplitDirective(absl::string_view text, std::string* name, std::string* args);

}  // namespace rwproxy::cli::apache

#endif  // RWPROXY_CLI_IMPORT_APACHE_LEXER_H_
