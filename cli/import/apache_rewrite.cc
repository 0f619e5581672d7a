// What a RewriteRule does: its flags and substitution (apache_rewrite_internal.h).
#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "cli/import/apache_lexer.h"
#include "cli/import/apache_regex.h"
#include "cli/import/apache_rewrite_internal.h"

namespace rwproxy::cli::apache::rewrite_internal {
namespace {

bool IsAbsolute(const std::vector<SPiece>& pieces) {
  return !pieces.empty() && pieces[0].k == SPiece::K::kLiteral &&
         pieces[0].text.find("://") != std::string::npos &&
         pieces[0].text.find("://") == pieces[0].text.find_first_of(":/?");
}

// [R] (or an absolute substitution without [P]): a redirect, or a plain status outside 3xx.
bool ShapeRedirect(const Flags& f, bool dash, bool absolute, std::vector<SPiece> pieces,
                   RuleShape* shape, std::string* why) {
  PlannedRoute& route = shape->route;
  if (f.status < 300 || f.status > 399) {
    if (f.status < 200 || f.status > 599) return *why = absl::StrCat("status ", f.status), false;
    route.action = PlannedRoute::Action::kRespond;
    route.status = f.status;
    return true;
  }
  if (f.status != 301 && f.status != 302 && f.status != 303 && f.status != 307 && f.status != 308) {
    *why = absl::StrCat("redirect status ", f.status, " (rwproxy sends 301, 302, 303, 307 or 308)");
    return false;
  }
  if (dash) return *why = "R needs a target", false;
  route.action = PlannedRoute::Action::kRedirect;
  route.status = f.status;
  shape->target = std::move(pieces);
  shape->relative_redirect = !absolute;
  if (!absolute && (shape->target[0].k != SPiece::K::kLiteral || shape->target[0].text[0] != '/')) {
    return *why = "a relative redirect target must start with '/'", false;
  }
  return true;
}

}  // namespace

absl::Status ParseFlags(const std::string& text, Flags* f) {
  if (text.size() < 2 || text.front() != '[' || text.back() != ']') {
    return absl::InvalidArgumentError("flags must be written [FLAG,...]");
  }
  static constexpr std::pair<const char*, const char*> kRefused[] = {
      {"c", "C (chain)"},
      {"chain", "C (chain)"},
      {"n", "N (next round)"},
      {"next", "N (next round)"},
      {"s", "S (skip)"},
      {"skip", "S (skip)"},
      {"e", "E (environment)"},
      {"env", "E (environment)"},
      {"co", "CO (cookie)"},
      {"cookie", "CO (cookie)"},
      {"t", "T (MIME type)"},
      {"type", "T (MIME type)"},
      {"h", "H (handler)"},
      {"handler", "H (handler)"},
      {"b", "B (escape back-references)"},
      {"bnp", "BNP"},
      {"backrefnoplus", "BNP"},
      {"bctls", "BCTLS"},
      {"bne", "BNE"},
      {"dpi", "DPI (discard path info)"},
      {"discardpath", "DPI (discard path info)"},
      {"qsl", "QSL (query at the last ?)"},
      {"qslast", "QSL (query at the last ?)"},
      {"unsafeallow3f", "UnsafeAllow3F"},
      {"unsafeprefixstat", "UnsafePrefixStat"},
  };
  for (absl::string_view piece : absl::StrSplit(text.substr(1, text.size() - 2), ',')) {
    const std::string flag(absl::StripAsciiWhitespace(piece));
    const std::string name = absl::AsciiStrToLower(flag.substr(0, flag.find('=')));
    const std::string value =
        flag.find('=') == std::string::npos ? "" : flag.substr(flag.find('=') + 1);
    if (name == "l" || name == "last") {
      f->last = true;
    } else if (name == "end") {
      f->last = true;
      f->notes.push_back("END stops rewriting like L here");
    } else if (name == "nc" || name == "nocase") {
      f->nc = true;
    } else if (name == "p" || name == "proxy") {
      f->proxy = true;
    } else if (name == "f" || name == "forbidden") {
      f->forbidden = true;
    } else if (name == "g" || name == "gone") {
      f->gone = true;
    } else if (name == "qsa" || name == "qsappend") {
      f->qsa = true;
    } else if (name == "qsd" || name == "qsdiscard") {
      f->qsd = true;
    } else if (name == "ne" || name == "noescape") {
      f->notes.push_back("NE: rwproxy never escapes the substitution");
    } else if (name == "ns" || name == "nosubreq") {
      f->notes.push_back("NS: rwproxy makes no subrequests");
    } else if (name == "pt" || name == "passthrough") {
      f->pt = true;
    } else if (name == "r" || name == "redirect") {
      f->redirect = true;
      const std::string v = absl::AsciiStrToLower(value);
      if (v.empty() || v == "temp") {
        f->status = 302;
      } else if (v == "permanent") {
        f->status = 301;
      } else if (v == "seeother") {
        f->status = 303;
      } else if (!absl::SimpleAtoi(v, &f->status)) {
        return absl::InvalidArgumentError(absl::StrCat("invalid redirect status '", value, "'"));
      }
    } else {
      for (const auto& [key, what] : kRefused) {
        if (name == key)
          return absl::InvalidArgumentError(absl::StrCat("flag ", what, " is not converted"));
      }
      return absl::InvalidArgumentError(absl::StrCat("unknown flag '", flag, "'"));
    }
  }
  return absl::OkStatus();
}

absl::StatusOr<std::vector<SPiece>> ParseSubst(const std::string& s) {
  std::vector<SPiece> out;
  auto literal = [&](char c) {
    if (out.empty() || out.back().k != SPiece::K::kLiteral)
      out.push_back({SPiece::K::kLiteral, "", 0});
    out.back().text += c;
  };
  for (size_t i = 0; i < s.size(); ++i) {
    const char c = s[i];
    const char next = i + 1 < s.size() ? s[i + 1] : '\0';
    if (c == '\\' && next != '\0') {
      literal(s[++i]);
    } else if ((c == '$' || c == '%') && absl::ascii_isdigit(next)) {
      out.push_back({c == '$' ? SPiece::K::kPath : SPiece::K::kCond, "", next - '0'});
      ++i;
    } else if (c == '$' && next == '{') {
      return absl::InvalidArgumentError("${map:key} (RewriteMap) is not converted");
    } else if (c == '%' && next == '{') {
      const size_t close = s.find('}', i);
      if (close == std::string::npos) return absl::InvalidArgumentError("unterminated %{");
      const std::string var = absl::AsciiStrToUpper(s.substr(i + 2, close - i - 2));
      if (var == "HTTP_HOST") {
        out.push_back({SPiece::K::kHost, "", 0});
      } else if (var == "REQUEST_URI") {
        out.push_back({SPiece::K::kUri, "", 0});
      } else if (var == "QUERY_STRING") {
        out.push_back({SPiece::K::kQuery, "", 0});
      } else {
        return absl::InvalidArgumentError(absl::StrCat("%{", s.substr(i + 2, close - i - 2),
                                                       "} in the substitution is not converted"));
      }
      i = close;
    } else {
      literal(c);
    }
  }
  return out;
}

// Handles the query part of the target: a trailing '?', %{QUERY_STRING}, QSA, QSD.
absl::Status ShapeQuery(const Flags& f, RuleShape* shape) {
  std::vector<SPiece>& t = shape->target;
  bool has_query = false;
  for (const SPiece& p : t)
    has_query |= p.k == SPiece::K::kLiteral && p.text.find('?') != std::string::npos;
  for (size_t i = 0; i < t.size(); ++i) {
    if (t[i].k != SPiece::K::kQuery) continue;
    std::string* before = i > 0 && t[i - 1].k == SPiece::K::kLiteral ? &t[i - 1].text : nullptr;
    if (i + 1 != t.size() || before == nullptr || before->empty() ||
        (before->back() != '?' && before->back() != '&')) {
      return absl::InvalidArgumentError(
          "%{QUERY_STRING} is only converted at the end, after '?' or '&'");
    }
    const bool amp = before->back() == '&';
    before->pop_back();
    t.pop_back();
    if (amp) {
      shape->query_append = true;
    } else if (!before->empty() && before->back() == '?') {
      return absl::InvalidArgumentError("'?%{QUERY_STRING}' after '?' is not converted");
    } else {
      has_query = false;
    }
    if (before->empty()) t.erase(t.begin() + i - 1);
    break;
  }
  if (!t.empty() && t.back().k == SPiece::K::kLiteral && absl::EndsWith(t.back().text, "?") &&
      t.back().text.find('?') == t.back().text.size() - 1) {
    bool earlier_query = false;
    for (size_t i = 0; i + 1 < t.size(); ++i)
      earlier_query |= t[i].text.find('?') != std::string::npos;
    if (!earlier_query) {
      t.back().text.pop_back();
      if (t.back().text.empty()) t.pop_back();
      shape->query_discard = true;
      has_query = false;
    }
  }
  if (f.qsd) shape->query_discard = true;
  if (f.qsa && has_query) shape->query_append = true;
  return absl::OkStatus();
}

// Decides what the rule does. Returns false (with *why) when it is refused; sets *none when the
// rule has no effect (or only excludes paths, *exclusion).
bool ShapeRule(const Flags& f, const std::string& subst, bool has_conds, RuleShape* shape,
               std::vector<std::string>* notes, std::vector<std::string>* approximations,
               bool* exclusion, std::string* why) {
  PlannedRoute& route = shape->route;
  auto pieces = ParseSubst(subst);
  if (!pieces.ok()) return *why = std::string(pieces.status().message()), false;
  if (f.forbidden || f.gone) {
    route.action = PlannedRoute::Action::kRespond;
    route.status = f.forbidden ? 403 : 410;
    return true;
  }
  const bool dash = subst == "-";
  if (!dash && !PlainText(subst)) {
    return *why = "the substitution has spaces, control characters or invalid UTF-8", false;
  }
  const bool absolute = !dash && IsAbsolute(*pieces);
  if (f.proxy && f.redirect) return *why = "P and R together", false;
  if (f.redirect || (absolute && !f.proxy)) {
    if (!f.redirect) notes->push_back("an absolute substitution is an external redirect (302)");
    if (!f.last && f.redirect) {
      approximations->push_back("R without L: Apache goes on rewriting the target");
    }
    return ShapeRedirect(f, dash, absolute, std::move(*pieces), shape, why);
  }
  if (f.proxy) {
    if (!absolute) return *why = "P needs an absolute http:// URL", false;
    route.action = PlannedRoute::Action::kProxy;
    shape->target = std::move(*pieces);
    return true;
  }
  if (dash) {
    if (!f.last) {
      notes->push_back("no effect: no substitution and no L");
      route.status = 0;
      return true;
    }
    if (has_conds) return *why = "- [L] with RewriteCond is not converted", false;
    *exclusion = true;
    notes->push_back("the later RewriteRules skip these paths");
    return true;
  }
  if (f.pt) {
    return *why =
               "PT: Apache maps the rewritten path again (Alias, ProxyPass); rwproxy routes "
               "once",
           false;
  }
  if (!f.last) {
    return *why = "a local rewrite without L goes on through the next rules with the new path",
           false;
  }
  route.action = PlannedRoute::Action::kRespond;
  route.status = 404;
  route.disk = true;
  approximations->push_back(absl::StrCat("Apache serves ", subst,
                                         " from the file system; rwproxy serves "
                                         "no files: 404"));
  return true;
}

}  // namespace rwproxy::cli::apache::rewrite_internal
