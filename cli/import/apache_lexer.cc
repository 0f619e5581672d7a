#include "cli/import/apache_lexer.h"

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"

namespace rwproxy::cli::apache {
namespace {

bool IsSpace(char c) {
  return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\f' || c == '\v';
}

// httpd's substring_conf: inside a word, "\\" is one backslash and, in a quoted word, "\q" is the
// quote character q; every other backslash stays.
std::string Unescape(absl::string_view word, char quote) {
  std::string out;
  out.reserve(word.size());
  for (size_t i = 0; i < word.size(); ++i) {
    if (word[i] == '\\' && i + 1 < word.size() &&
        (word[i + 1] == '\\' || (quote != 0 && word[i + 1] == quote))) {
      out.push_back(word[++i]);
    } else {
      out.push_back(word[i]);
    }
  }
  return out;
}

}  // namespace

absl::StatusOr<std::vector<LogicalLine>> SplitLogicalLines(absl::string_view text) {
  std::vector<LogicalLine> out;
  std::string current;
  int first_line = 0;
  int line_number = 0;
  size_t pos = 0;
  while (pos < text.size()) {
    size_t end = text.find('\n', pos);
    absl::string_view physical =
        text.substr(pos, end == absl::string_view::npos ? absl::string_view::npos : end - pos);
    pos = end == absl::string_view::npos ? text.size() : end + 1;
    ++line_number;
    if (physical.find('\0') != absl::string_view::npos) {
      return absl::InvalidArgumentError(absl::StrCat("line ", line_number, ": NUL byte"));
    }
    if (!physical.empty() && physical.back() == '\r') physical.remove_suffix(1);
    if (current.empty()) first_line = line_number;
    const bool continued = !physical.empty() && physical.back() == '\\';
    if (continued) physical.remove_suffix(1);
    current.append(physical.data(), physical.size());
    if (current.size() > kMaxLogicalLine) {
      return absl::InvalidArgumentError(absl::StrCat(
          "line ", first_line, ": logical line longer than ", kMaxLogicalLine, " bytes"));
    }
    if (continued && pos < text.size()) continue;
    absl::string_view trimmed = absl::StripAsciiWhitespace(current);
    if (!trimmed.empty() && trimmed[0] != '#') out.push_back({first_line, std::string(trimmed)});
    current.clear();
  }
  return out;
}

absl::StatusOr<std::vector<std::string>> SplitArgs(absl::string_view text) {
  std::vector<std::string> out;
  size_t i = 0;
  while (true) {
    while (i < text.size() && IsSpace(text[i])) ++i;
    if (i >= text.size()) break;
    const char quote = text[i];
    if (quote == '"' || quote == '\'') {
      size_t end = i + 1;
      while (end < text.size() && text[end] != quote) {
        const bool escape = text[end] == '\\' && end + 1 < text.size() &&
                            (text[end + 1] == quote || text[end + 1] == '\\');
        end += escape ? 2 : 1;
      }
      if (end >= text.size()) {
        return absl::InvalidArgumentError(
            absl::StrCat("unterminated ", quote == '"' ? "double" : "single", " quote"));
      }
      out.push_back(Unescape(text.substr(i + 1, end - i - 1), quote));
      i = end + 1;
    } else {
      size_t end = i;
      while (end < text.size() && !IsSpace(text[end])) ++end;
      out.push_back(Unescape(text.substr(i, end - i), 0));
      i = end;
    }
  }
  return out;
}

absl::StatusOr<std::vector<std::string>> SplitRewriteArgs(absl::string_view text) {
  std::vector<std::string> out;
  size_t i = 0;
  while (out.size() < 4) {
    while (i < text.size() && IsSpace(text[i])) ++i;
    if (i >= text.size()) break;
    char quote = 0;
    if (text[i] == '"' || text[i] == '\'') quote = text[i++];
    const size_t start = i;
    while (i < text.size()) {
      if (quote != 0 ? text[i] == quote : IsSpace(text[i])) break;
      // A backslash protects a following space (it stays in the word, for the regex).
      if (text[i] == '\\' && i + 1 < text.size() && IsSpace(text[i + 1])) ++i;
      ++i;
    }
    if (quote != 0 && i >= text.size()) {
      return absl::InvalidArgumentError(
          absl::StrCat("unterminated ", quote == '"' ? "double" : "single", " quote"));
    }
    out.emplace_back(text.substr(start, i - start));
    if (quote != 0) ++i;
  }
  if (out.size() < 2) return absl::InvalidArgumentError("takes two or three arguments");
  if (out.size() > 3) return absl::InvalidArgumentError("takes at most three arguments");
  return out;
}

absl::StatusOr<SectionTag> ParseSectionTag(absl::string_view text) {
  SectionTag tag;
  absl::string_view rest = text.substr(1);
  if (!rest.empty() && rest[0] == '/') {
    tag.closing = true;
    rest.remove_prefix(1);
  }
  if (rest.empty() || rest.back() != '>') {
    return absl::InvalidArgumentError(absl::StrCat("missing '>' in ", std::string(text)));
  }
  rest.remove_suffix(1);
  std::string args;
  SplitDirective(rest, &tag.name, &args);
  if (tag.name.empty()) return absl::InvalidArgumentError("section without a name");
  if (tag.closing && !args.empty()) {
    return absl::InvalidArgumentError(absl::StrCat("</", tag.name, "> takes no arguments"));
  }
  tag.args = std::move(args);
  return tag;
}

void SplitDirective(absl::string_view text, std::string* name, std::string* args) {
  size_t i = 0;
  while (i < text.size() && !IsSpace(text[i])) ++i;
  *name = std::string(text.substr(0, i));
  *args =
      std::string(absl::StripAsciiWhitespace(absl::string_view(text.data() + i, text.size() - i)));
}

}  // namespace rwproxy::cli::apache
