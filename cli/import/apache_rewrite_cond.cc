// ConvertCond: one RewriteCond -> the ways it can hold (apache_rewrite.h).
#include <cstring>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "cli/import/apache_lexer.h"
#include "cli/import/apache_model.h"
#include "cli/import/apache_regex.h"
#include "cli/import/apache_rewrite.h"

namespace rwproxy::cli::apache {
namespace {

using config::v1::HeaderMatch;
using config::v1::QueryMatch;

bool IsToken(const std::string& s) {
  if (s.empty()) return false;
  for (char c : s) {
    if (!absl::ascii_isalnum(c) && std::strchr("!#$%&'*+-.^_`|~", c) == nullptr) return false;
  }
  return true;
}

// The header (lowercase), ":method", ":path" or "?" (the query) a %{VARIABLE} reads.
absl::StatusOr<std::string> Source(const std::string& test) {
  if (test.size() < 4 || !absl::StartsWith(test, "%{") || test.back() != '}' ||
      test.find('}') != test.size() - 1) {
    return absl::InvalidArgumentError(
        absl::StrCat("test string '", test, "' is not converted (only one %{VARIABLE} is)"));
  }
  const std::string var = test.substr(2, test.size() - 3);
  const std::string upper = absl::AsciiStrToUpper(var);
  if (absl::StartsWith(upper, "HTTP:")) {
    std::string name = absl::AsciiStrToLower(var.substr(5));
    if (!IsToken(name)) return absl::InvalidArgumentError(absl::StrCat("invalid header in ", test));
    return name;
  }
  static constexpr std::pair<const char*, const char*> kVariables[] = {
      {"HTTP_HOST", "host"},         {"HTTP_USER_AGENT", "user-agent"},
      {"HTTP_REFERER", "referer"},   {"HTTP_COOKIE", "cookie"},
      {"HTTP_ACCEPT", "accept"},     {"HTTP_FORWARDED", "forwarded"},
      {"REQUEST_METHOD", ":method"}, {"REQUEST_URI", ":path"},
      {"QUERY_STRING", "?"},
  };
  for (const auto& [name, source] : kVariables) {
    if (upper == name) return std::string(source);
  }
  return absl::InvalidArgumentError(
      absl::StrCat("variable %{", var,
                   "} is not converted (it is not part of the request rwproxy "
                   "routes on)"));
}

absl::Status CheckSpecial(const std::string& pattern) {
  static constexpr const char* kTests[] = {
      "d",  "f",  "F",  "h",  "l",  "L",       "s",        "U",         "x",      "eq",
      "ne", "lt", "le", "gt", "ge", "ipmatch", "strmatch", "strcmatch", "fnmatch"};
  if (pattern.size() > 1 && pattern[0] == '-') {
    for (const char* test : kTests) {
      if (pattern.substr(1) == test) {
        return absl::InvalidArgumentError(
            absl::StrCat("test -", test,
                         " is not converted (files, numbers and addresses are not request data)"));
      }
    }
  }
  if (pattern.size() > 1 && (pattern[0] == '<' || pattern[0] == '>')) {
    return absl::InvalidArgumentError(absl::StrCat("lexicographic comparison ",
                                                   pattern.substr(0, pattern[1] == '=' ? 2 : 1),
                                                   " is not converted"));
  }
  return absl::OkStatus();
}

HeaderMatch Header(const std::string& name) {
  HeaderMatch h;
  h.set_name(name);
  return h;
}

// A regex RewriteCond on `source`.
Cond RegexCond(const std::string& source, const Re2Pattern& re, const std::string& pcre, bool nc,
               bool negate, bool keep_regex) {
  Cond cond;
  std::string pattern = re.pattern.empty() ? "^" : re.pattern;
  if (nc) pattern = "(?i)" + pattern;
  CondAlt alt;
  alt.apache_regex = !negate;
  alt.groups = re.groups;
  if (source == "?") {
    QueryMatch query;
    query.set_regex(pattern);
    query.set_invert(negate);
    alt.query = query;
    cond.alts.push_back(std::move(alt));
    return cond;
  }
  HeaderMatch header = Header(source);
  std::string literal;
  if (!keep_regex && !nc && AnchoredLiteral(pcre, &literal) && !literal.empty()) {
    header.set_exact(literal);  // the same test, and it reads better
  } else {
    header.set_regex(pattern);
  }
  header.set_invert(negate);
  const bool pseudo = source[0] == ':';
  if (pseudo || !re.matches_empty) {
    alt.headers.push_back(header);
    cond.alts.push_back(std::move(alt));
    return cond;
  }
  // The pattern matches "": Apache reads a missing header as "", rwproxy's regex fails on it.
  if (negate) {  // present, and not matching
    HeaderMatch present = Header(source);
    present.set_present(true);
    alt.headers = {present, header};
    cond.alts.push_back(std::move(alt));
  } else {  // matching, or absent
    alt.headers = {header};
    cond.alts.push_back(alt);
    HeaderMatch absent = Header(source);
    absent.set_present(false);
    alt.headers = {absent};
    cond.alts.push_back(std::move(alt));
  }
  return cond;
}

}  // namespace

absl::StatusOr<Cond> ConvertCond(const Node& node, bool keep_regex) {
  auto args = SplitRewriteArgs(node.args);
  if (!args.ok()) return args.status();
  bool nc = false, ornext = false;
  if (args->size() == 3) {
    std::string flags = (*args)[2];
    if (flags.size() < 2 || flags.front() != '[' || flags.back() != ']') {
      return absl::InvalidArgumentError("flags must be written [FLAG,...]");
    }
    for (absl::string_view f : absl::StrSplit(flags.substr(1, flags.size() - 2), ',')) {
      const std::string flag = absl::AsciiStrToLower(absl::StripAsciiWhitespace(f));
      if (flag == "nc" || flag == "nocase") {
        nc = true;
      } else if (flag == "or" || flag == "ornext") {
        ornext = true;
      } else if (flag != "nv" && flag != "novary") {
        return absl::InvalidArgumentError(absl::StrCat("flag ", flag, " is not converted"));
      }
    }
  }
  auto source = Source((*args)[0]);
  if (!source.ok()) return source.status();
  std::string pattern = (*args)[1];
  const bool negate = absl::StartsWith(pattern, "!");
  if (negate) pattern = pattern.substr(1);
  if (absl::Status s = CheckSpecial(pattern); !s.ok()) return s;
  Cond cond;
  if (absl::StartsWith(pattern, "=")) {  // string equality: no %N
    std::string value = pattern.substr(1);
    if (value.empty() || value == "\"\"") {
      return absl::InvalidArgumentError("comparison with the empty string is not converted");
    }
    if (!FieldText(value) || value.find('\t') != std::string::npos) {
      return absl::InvalidArgumentError("the value has control characters or invalid UTF-8");
    }
    Re2Pattern exact{"^" + QuoteRegex(value) + "$", 0, false};
    if (nc || *source == "?") {
      cond = RegexCond(*source, exact, "", nc, negate, true);
    } else {
      HeaderMatch header = Header(*source);
      header.set_exact(value);
      header.set_invert(negate);
      cond.alts.push_back(CondAlt{{header}, std::nullopt, false, 0});
    }
    for (CondAlt& alt : cond.alts) alt.apache_regex = false;
  } else {
    auto re = PcreToRe2(pattern, nc);
    if (!re.ok()) return re.status();
    cond = RegexCond(*source, *re, pattern, nc, negate, keep_regex);
  }
  cond.ornext = ornext;
  return cond;
}

}  // namespace rwproxy::cli::apache
