#include "cli/import/apache_regex.h"

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "config/compiled_route.h"
#include "re2/re2.h"

namespace rwproxy::cli::apache {
namespace {

absl::Status Refuse(absl::string_view construct, absl::string_view why) {
  return absl::InvalidArgumentError(absl::StrCat(construct, " (", why, ")"));
}

// The length of a counted quantifier {n}, {n,} or {n,m} starting at text[i] == '{'; 0 if none.
size_t CountedQuantifier(absl::string_view text, size_t i) {
  size_t j = i + 1;
  const size_t digits = j;
  while (j < text.size() && absl::ascii_isdigit(text[j])) ++j;
  if (j == digits) return 0;
  if (j < text.size() && text[j] == ',') {
    ++j;
    while (j < text.size() && absl::ascii_isdigit(text[j])) ++j;
  }
  return j < text.size() && text[j] == '}' ? j - i + 1 : 0;
}

// Handles "(?" and "(*" constructs at text[i] == '('. Appends to *out and returns the characters
// consumed, or an error for what RE2 lacks.
absl::StatusOr<size_t> Group(absl::string_view text, size_t i, std::string* out) {
  absl::string_view rest = text.substr(i);
  if (absl::StartsWith(rest, "(*")) return Refuse("(*VERB)", "backtracking verbs and options");
  if (!absl::StartsWith(rest, "(?")) {
    out->push_back('(');
    return 1;
  }
  absl::string_view after = rest.substr(2);
  struct Refusal {
    const char* prefix;
    const char* construct;
    const char* why;
  };
  static constexpr Refusal kRefused[] = {
      {"=", "look-ahead (?=", "RE2 has no look-around"},
      {"!", "negative look-ahead (?!", "RE2 has no look-around"},
      {"<=", "look-behind (?<=", "RE2 has no look-around"},
      {"<!", "negative look-behind (?<!", "RE2 has no look-around"},
      {">", "atomic group (?>", "RE2 has no atomic groups"},
      {"(", "conditional (?(", "RE2 has no conditionals"},
      {"|", "branch reset (?|", "RE2 has no branch reset"},
      {"R", "recursion (?R)", "RE2 has no recursion"},
      {"&", "subroutine call (?&name)", "RE2 has no subroutine calls"},
      {"P>", "subroutine call (?P>name)", "RE2 has no subroutine calls"},
      {"P=", "named back-reference (?P=name)", "RE2 has no back-references"},
      {"C", "callout (?C", "RE2 has no callouts"},
  };
  for (const Refusal& r : kRefused) {
    if (absl::StartsWith(after, r.prefix)) return Refuse(r.construct, r.why);
  }
  if (!after.empty() && (absl::ascii_isdigit(after[0]) || after[0] == '+' || after[0] == '-') &&
      after.size() > 1 && absl::ascii_isdigit(after[after[0] == '+' || after[0] == '-' ? 1 : 0])) {
    return Refuse(absl::StrCat("subroutine call (?", after.substr(0, 1), "...)"),
                  "RE2 has no recursion or subroutine calls");
  }
  if (absl::StartsWith(after, "#")) {  // a comment: dropped
    size_t close = rest.find(')');
    if (close == absl::string_view::npos) return Refuse("(?#", "comment not closed");
    return close + 1;
  }
  if (absl::StartsWith(after, "<") || absl::StartsWith(after, "'")) {  // named group
    const char end = after[0] == '<' ? '>' : '\'';
    size_t close = after.find(end, 1);
    if (close == absl::string_view::npos) return Refuse("(?<name>", "group name not closed");
    absl::StrAppend(out, "(?P<", after.substr(1, close - 1), ">");
    return 2 + close + 1;
  }
  // Inline flags: (?i) (?-i) (?i:...). RE2 knows i, m, s, U; x changes the syntax itself.
  size_t j = 0;
  while (j < after.size() && (absl::ascii_isalpha(after[j]) || after[j] == '-')) ++j;
  if (after.substr(0, j).find('x') != absl::string_view::npos) {
    return Refuse("extended mode (?x)", "RE2 has no extended mode");
  }
  out->append("(?");
  return 2;
}

// Handles a backslash escape at pcre[i]; appends its RE2 form to *out and returns the characters
// consumed, or an error for what RE2 lacks.
absl::StatusOr<size_t> Escape(absl::string_view pcre, size_t i, bool in_class, std::string* out) {
  if (i + 1 >= pcre.size()) return Refuse("trailing \\", "nothing to escape");
  const char e = pcre[i + 1];
  if (e == 'Q') {  // \Q...\E: literal text
    const size_t end = pcre.find("\\E", i + 2);
    absl::string_view literal =
        pcre.substr(i + 2, end == absl::string_view::npos ? end : end - i - 2);
    *out += RE2::QuoteMeta(re2::StringPiece(literal.data(), literal.size()));
    return (end == absl::string_view::npos ? pcre.size() : end + 2) - i;
  }
  if (!in_class) {
    if (e >= '1' && e <= '9') {
      return Refuse(absl::StrCat("back-reference \\", std::string(1, e)),
                    "RE2 has no back-references");
    }
    if (e == 'g') return Refuse("back-reference \\g", "RE2 has no back-references");
    if (e == 'k') return Refuse("named back-reference \\k", "RE2 has no back-references");
    if (e == 'K') return Refuse("\\K", "RE2 cannot reset the match start");
    if (e == 'G') return Refuse("\\G", "RE2 has no previous-match anchor");
    if (e == 'Z') {
      *out += "\\z";
      return 2;
    }
  }
  out->push_back('\\');
  out->push_back(e);
  return 2;
}

// Copies pcre[i] (outside a class; not '\\', '[' or '('), refusing possessive quantifiers.
absl::StatusOr<size_t> Quantifier(absl::string_view pcre, size_t i, std::string* out) {
  const char c = pcre[i];
  size_t length = c == '*' || c == '+' || c == '?' ? 1 : 0;
  if (c == '{') length = CountedQuantifier(pcre, i);
  if (length == 0) {
    out->push_back(c);
    return 1;
  }
  out->append(pcre.data() + i, length);
  size_t j = i + length;
  if (j < pcre.size() && pcre[j] == '+') {
    return Refuse(absl::StrCat("possessive quantifier ", pcre.substr(i, length), "+"),
                  "RE2 has no possessive quantifiers");
  }
  if (j < pcre.size() && pcre[j] == '?') out->push_back(pcre[j++]);  // lazy
  return j - i;
}

// Compiles an RE2 pattern within rwproxy's limits (config/compiled_route.h).
absl::StatusOr<Re2Pattern> Compile(std::string pattern, bool case_insensitive) {
  RE2::Options options;
  options.set_log_errors(false);
  options.set_case_sensitive(!case_insensitive);
  RE2 re(pattern, options);
  if (!re.ok()) return absl::InvalidArgumentError(absl::StrCat("RE2: ", re.error()));
  if (re.ProgramSize() > kMaxRegexProgramSize) {
    return absl::InvalidArgumentError(absl::StrCat("regex too large for rwproxy (program size ",
                                                   re.ProgramSize(), ", limit ",
                                                   kMaxRegexProgramSize, ")"));
  }
  if (re.NumberOfCapturingGroups() > kMaxRouteGroups) {
    return absl::InvalidArgumentError(
        absl::StrCat("more than ", kMaxRouteGroups, " capture groups"));
  }
  Re2Pattern result;
  result.groups = re.NumberOfCapturingGroups();
  result.matches_empty = RE2::PartialMatch("", re);
  result.pattern = std::move(pattern);
  return result;
}

}  // namespace

absl::StatusOr<Re2Pattern> PcreToRe2(absl::string_view pcre, bool case_insensitive) {
  std::string out;
  bool in_class = false;
  size_t class_start = 0;
  for (size_t i = 0; i < pcre.size();) {
    const char c = pcre[i];
    absl::StatusOr<size_t> used = 1;
    if (c == '\\') {
      used = Escape(pcre, i, in_class, &out);
    } else if (in_class) {
      out.push_back(c);
      // A ']' right after '[' or '[^' is a literal member.
      const bool first = i == class_start || (i == class_start + 1 && pcre[class_start] == '^');
      if (c == ']' && !first) in_class = false;
    } else if (c == '[') {
      in_class = true;
      class_start = i + 1;
      out.push_back(c);
    } else if (c == '(') {
      used = Group(pcre, i, &out);
    } else {
      used = Quantifier(pcre, i, &out);
    }
    if (!used.ok()) return used.status();
    i += *used;
  }
  return Compile(std::move(out), case_insensitive);
}

bool AnchoredLiteral(absl::string_view pcre, std::string* literal) {
  if (pcre.size() < 2 || pcre.front() != '^' || pcre.back() != '$') return false;
  if (pcre.size() >= 3 && pcre[pcre.size() - 2] == '\\') return false;  // "\$" at the end
  std::string out;
  for (size_t i = 1; i + 1 < pcre.size(); ++i) {
    const char c = pcre[i];
    if (c == '\\') {
      const char e = pcre[++i];
      if (absl::ascii_isalnum(e)) return false;  // \d, \w, \1 ...
      out.push_back(e);
    } else if (absl::string_view("^$.|?*+()[]{}").find(c) != absl::string_view::npos) {
      return false;
    } else {
      out.push_back(c);
    }
  }
  *literal = std::move(out);
  return true;
}

std::string QuoteRegex(absl::string_view literal) {
  std::string out;
  for (char c : literal) {
    if (absl::string_view("\\.+*?()|[]{}^$").find(c) != absl::string_view::npos) out += '\\';
    out += c;
  }
  return out;
}

}  // namespace rwproxy::cli::apache
