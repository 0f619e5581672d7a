#include "cli/diff.h"

#include <algorithm>
#include <cstdint>

#include "absl/strings/str_cat.h"

namespace rwproxy::cli {
namespace {

// "-3,2" style range; GNU diff prints "start" alone for one line, and "start-1,0" (the line
// before) for an empty range.
std::string Range(size_t first, size_t count) {
  if (count == 1) return absl::StrCat(first + 1);
  return absl::StrCat(count == 0 ? first : first + 1, ",", count);
}

}  // namespace

std::vector<std::string> SplitLines(std::string_view text) {
  std::vector<std::string> lines;
  while (!text.empty()) {
    size_t nl = text.find('\n');
    lines.emplace_back(text.substr(0, nl));
    text.remove_prefix(nl == std::string_view::npos ? text.size() : nl + 1);
  }
  return lines;
}

std::vector<DiffLine> DiffLines(const std::vector<std::string>& a,
                                const std::vector<std::string>& b) {
  size_t head = 0;
  while (head < a.size() && head < b.size() && a[head] == b[head]) ++head;
  size_t tail = 0;
  while (tail < a.size() - head && tail < b.size() - head &&
         a[a.size() - 1 - tail] == b[b.size() - 1 - tail]) {
    ++tail;
  }
  const size_t n = a.size() - head - tail;
  const size_t m = b.size() - head - tail;

  std::vector<DiffLine> out;
  for (size_t i = 0; i < head; ++i) out.push_back({' ', a[i]});
  if (n > 0 && m > 0 && (n + 1) * (m + 1) <= kMaxDiffCells) {
    // lcs[i][j]: LCS length of a[head+i..] and b[head+j..] (suffixes), row-major.
    std::vector<uint32_t> lcs((n + 1) * (m + 1), 0);
    auto at = [&](size_t i, size_t j) -> uint32_t& { return lcs[i * (m + 1) + j]; };
    for (size_t i = n; i-- > 0;) {
      for (size_t j = m; j-- > 0;) {
        at(i, j) = a[head + i] == b[head + j] ? at(i + 1, j + 1) + 1
                                              : std::max(at(i + 1, j), at(i, j + 1));
      }
    }
    size_t i = 0, j = 0;
    while (i < n && j < m) {
      if (a[head + i] == b[head + j]) {
        out.push_back({' ', a[head + i]});
        ++i, ++j;
      } else if (at(i + 1, j) >= at(i, j + 1)) {
        out.push_back({'-', a[head + i++]});
      } else {
        out.push_back({'+', b[head + j++]});
      }
    }
    for (; i < n; ++i) out.push_back({'-', a[head + i]});
    for (; j < m; ++j) out.push_back({'+', b[head + j]});
  } else {
    for (size_t i = 0; i < n; ++i) out.push_back({'-', a[head + i]});
    for (size_t j = 0; j < m; ++j) out.push_back({'+', b[head + j]});
  }
  for (size_t i = a.size() - tail; i < a.size(); ++i) out.push_back({' ', a[i]});
  return out;
}

std::string UnifiedDiff(std::string_view old_text, std::string_view new_text,
                        std::string_view old_label, std::string_view new_label, int context) {
  const std::vector<DiffLine> script = DiffLines(SplitLines(old_text), SplitLines(new_text));
  const size_t ctx = static_cast<size_t>(std::max(context, 0));
  std::vector<size_t> changes;
  for (size_t k = 0; k < script.size(); ++k) {
    if (script[k].op != ' ') changes.push_back(k);
  }
  if (changes.empty()) return "";

  std::string out =
      absl::StrCat("--- ", std::string(old_label), "\n+++ ", std::string(new_label), "\n");
  // Line numbers (0-based) in the old and new text at each script index.
  std::vector<size_t> old_at(script.size() + 1), new_at(script.size() + 1);
  for (size_t k = 0; k < script.size(); ++k) {
    old_at[k + 1] = old_at[k] + (script[k].op != '+');
    new_at[k + 1] = new_at[k] + (script[k].op != '-');
  }
  size_t c = 0;
  while (c < changes.size()) {
    size_t begin = changes[c] > ctx ? changes[c] - ctx : 0;
    size_t last = changes[c];
    // Merge the next change while the unchanged gap is at most 2 * context lines.
    while (c + 1 < changes.size() && changes[c + 1] - last <= 2 * ctx + 1) last = changes[++c];
    size_t end = std::min(script.size(), last + ctx + 1);
    absl::StrAppend(&out, "@@ -", Range(old_at[begin], old_at[end] - old_at[begin]), " +",
                    Range(new_at[begin], new_at[end] - new_at[begin]), " @@\n");
    for (size_t k = begin; k < end; ++k) {
      out.push_back(script[k].op);
      absl::StrAppend(&out, script[k].text, "\n");
    }
    ++c;
  }
  return out;
}

}  // namespace rwproxy::cli
