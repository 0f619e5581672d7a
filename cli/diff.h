// A small line diff for `rwctl diff`: longest common subsequence over lines, printed as a unified
// diff (GNU style hunks with context). Common leading and trailing lines are trimmed before the
// LCS table is built, so typical config edits stay cheap; a middle part larger than
// kMaxDiffCells table cells is shown as one deletion plus one insertion (still correct, not
// minimal).
//
// Ownership: free functions over caller-owned values. Thread-safety: reentrant; any thread.
#ifndef RWPROXY_CLI_DIFF_H_
#define RWPROXY_CLI_DIFF_H_

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

namespace rwproxy::cli {

inline constexpr size_t kMaxDiffCells = size_t{1} << 24;

// One line of an edit script: ' ' kept, '-' only in the old text, '+' only in the new text.
struct DiffLine {
  char op;
  std::string text;
  friend bool operator==(const DiffLine&, const DiffLine&) = default;
};

// Splits text into lines without their '\n'; a final newline does not add an empty line.
std::vector<std::string> SplitLines(std::string_view text);

// The edit script turning `old_lines` into `new_lines` (kept lines from an LCS).
std::vector<DiffLine> DiffLines(const std::vector<std::string>& old_lines,
                                const std::vector<std::string>& new_lines);

// "--- old_label\n+++ new_label\n@@ -1,3 +1,4 @@\n ..." with `context` lines around each change;
// "" when the texts are equal.
std::string UnifiedDiff(std::string_view old_text, std::string_view new_text,
                        std::string_view old_label, std::string_view new_label, int context = 3);

}  // namespace rwproxy::cli

#endif  // RWPROXY_CLI_DIFF_H_
