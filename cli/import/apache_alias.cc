#include "cli/import/apache_alias.h"

#include <algorithm>
#include <cstring>
#include <map>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "cli/import/apache_lexer.h"
#include "cli/import/apache_proxy.h"
#include "cli/import/apache_regex.h"

namespace rwproxy::cli::apache {
namespace {

using Kind = VerdictKind;

// The status of a Redirect's optional first argument; 0 when it is not one.
int RedirectStatus(const std::string& word) {
  const std::string w = absl::AsciiStrToLower(word);
  if (w == "permanent") return 301;
  if (w == "temp") return 302;
  if (w == "seeother") return 303;
  if (w == "gone") return 410;
  int status = 0;
  if (w.size() == 3 && absl::SimpleAtoi(w, &status)) return status;
  return 0;
}

// A redirect target as a template: a local path gets "http://%1" (the Host condition's group).
Template Location(const std::string& url, bool regex, bool relative) {
  Template t;
  if (relative) {
    AppendLiteral(&t, "http://");
    t.push_back({Piece::Kind::kCondGroup, "", 1});
  }
  if (regex) {
    for (const Piece& p : ParsePregsub(url)) {
      if (p.kind == Piece::Kind::kLiteral) {
        AppendLiteral(&t, p.text);
      } else {
        t.push_back(p);
      }
    }
  } else {
    AppendLiteral(&t, url);
  }
  return t;
}

// A Redirect's status and its path (and URL) arguments; a refusal reason or "".
std::string RedirectArgs(const Node& node, int* status, std::vector<std::string>* a) {
  const std::string key = node.Key();
  auto args = SplitArgs(node.args);
  if (!args.ok()) return std::string(args.status().message());
  *a = *args;
  *status = key == "redirectpermanent" ? 301 : 302;
  if ((key == "redirect" || key == "redirectmatch") && !a->empty() &&
      RedirectStatus((*a)[0]) != 0) {
    *status = RedirectStatus((*a)[0]);
    a->erase(a->begin());
  }
  const bool redirect = *status >= 300 && *status <= 399;
  if (a->size() != (redirect ? 2u : 1u)) {
    return redirect ? "takes a path and a URL"
                    : absl::StrCat("status ", *status, " takes a path only");
  }
  if (redirect && *status != 301 && *status != 302 && *status != 303 && *status != 307 &&
      *status != 308) {
    return absl::StrCat("status ", *status, " (rwproxy redirects with 301, 302, 303, 307 or 308)");
  }
  if (!redirect && (*status < 200 || *status > 599)) return absl::StrCat("status ", *status);
  return "";
}

// Why a redirect target cannot be converted, or "".
std::string TargetProblem(const std::string& path, const std::string& url, bool regex,
                          bool relative) {
  if (!PlainText(url)) return "the URL has spaces, control characters or invalid UTF-8";
  if (!relative && url.find("://") == std::string::npos) {
    return "the target must be an absolute URL or start with '/'";
  }
  if (!regex && !relative && path.back() == '/' &&
      url.find('/', url.find("://") + 3) == std::string::npos) {
    return "the path ends in '/' but the URL has no path: Apache would append the rest to the "
           "host name";
  }
  return "";
}

// mod_headers values are formats: "%%" is '%', any other '%' starts a specifier (refused).
std::string LiteralValue(std::string* value) {
  std::string literal;
  for (size_t i = 0; i < value->size(); ++i) {
    if ((*value)[i] != '%') {
      literal += (*value)[i];
    } else if (i + 1 < value->size() && (*value)[i + 1] == '%') {
      literal += '%';
      ++i;
    } else {
      return absl::StrCat("format specifier ", value->substr(i, 2),
                          "... is not converted (literal values only)");
    }
  }
  *value = literal;
  return FieldText(*value) ? "" : "the value has control characters or is too long";
}

// Why rwproxy does not let a route edit `name` (lowercase; `written` as in the config), or "".
std::string NameProblem(const std::string& name, const std::string& written, bool request) {
  if (name.empty() || std::any_of(name.begin(), name.end(), [](char c) {
        return !absl::ascii_isalnum(c) && std::strchr("!#$%&'*+-.^_`|~", c) == nullptr;
      })) {
    return absl::StrCat("invalid header name '", written, "'");
  }
  if (request && name == "host") return "Host edits are not converted (see ProxyPreserveHost)";
  static constexpr const char* kFraming[] = {
      "content-length", "transfer-encoding", "connection", "keep-alive",
      "upgrade",        "proxy-connection",  "trailer"};
  for (const char* framing : kFraming) {
    if (name == framing) return absl::StrCat("rwproxy writes ", written, " itself");
  }
  return request && name == "te" ? "rwproxy writes TE itself" : "";
}

}  // namespace

std::vector<PlannedRoute> PlanRedirect(const RedirectItem& item, const std::string& name,
                                       Report* report) {
  auto refuse = [&](const std::string& why) {
    report->Set(item.verdict, Kind::kRefused, why);
    return std::vector<PlannedRoute>{};
  };
  int status = 0;
  std::vector<std::string> a;
  if (std::string why = RedirectArgs(*item.node, &status, &a); !why.empty()) return refuse(why);
  const bool regex = item.node->Key() == "redirectmatch";
  PlannedRoute route;
  route.name = name;
  route.verdicts = {item.verdict};
  int groups = 1;
  if (regex) {
    auto re = PcreToRe2(a[0]);
    if (!re.ok()) return refuse(absl::StrCat("regex: ", re.status().message()));
    route.match.set_path_regex(re->pattern.empty() ? "^" : re->pattern);
    route.literal_prefix = LiteralPrefix(a[0]);
    groups = re->groups;
  } else {  // whole segments; the rest of the path follows the target
    if (a[0].empty() || a[0][0] != '/' || !PlainText(a[0])) {
      return refuse("the path must start with '/' and have no spaces or control characters");
    }
    route.literal_prefix = a[0];
    const bool slash = a[0].back() == '/';
    route.match.set_path_regex(absl::StrCat("^", QuoteRegex(a[0]), slash ? "(.*)$" : "(/.*)?$"));
  }
  if (!Re2Ok(route.match.path_regex())) return refuse("the path makes a regex rwproxy refuses");
  route.status = status;
  if (status < 300 || status > 399) {
    report->Set(item.verdict, Kind::kConverted);
    return {route};
  }
  const std::string& url = a[1];
  const bool relative = !url.empty() && url[0] == '/';
  if (std::string why = TargetProblem(a[0], url, regex, relative); !why.empty()) return refuse(why);
  route.action = PlannedRoute::Action::kRedirect;
  route.path = Location(url, regex, relative);
  if (!regex) route.path->push_back({Piece::Kind::kPathGroup, "", 1});
  if (const int max = MaxGroup(*route.path, Piece::Kind::kPathGroup); max > groups) {
    return refuse(absl::StrCat("$", max, " but the regex has ", groups, " groups"));
  }
  if (relative) {  // Apache makes the target absolute with the request's host
    config::v1::HeaderMatch* host = route.match.add_headers();
    host->set_name("host");
    host->set_regex("^(.+)$");
  }
  report->Set(item.verdict, Kind::kConverted);
  return {route};
}

absl::StatusOr<std::string> LocationRegex(const LocationItem& location) {
  if (!location.regex) {
    std::string regex = BoundaryRegex(location.path);
    if (!Re2Ok(regex)) return absl::InvalidArgumentError("the path makes a regex rwproxy refuses");
    return regex;
  }
  auto re = PcreToRe2(location.path);
  if (!re.ok()) return re.status();
  return re->pattern.empty() ? "^" : re->pattern;
}

std::optional<HeaderOp> ParseHeaderOp(const HeaderItem& item, Report* report) {
  auto refuse = [&](const std::string& why) {
    report->Set(item.verdict, Kind::kRefused, why);
    return std::nullopt;
  };
  auto parsed = SplitArgs(item.node->args);
  if (!parsed.ok()) return refuse(std::string(parsed.status().message()));
  std::vector<std::string> a = *parsed;
  std::vector<std::string> approximations;
  if (!item.request && !a.empty() &&
      (absl::EqualsIgnoreCase(a[0], "always") || absl::EqualsIgnoreCase(a[0], "onsuccess"))) {
    if (absl::EqualsIgnoreCase(a[0], "always")) {
      approximations.push_back(
          "always: rwproxy edits upstream responses only, not its own replies");
    }
    a.erase(a.begin());
  }
  if (a.size() < 2) return refuse("takes an action and a header name");
  const std::string action = absl::AsciiStrToLower(a[0]);
  HeaderOp op;
  op.request = item.request;
  op.verdict = item.verdict;
  op.name = absl::AsciiStrToLower(a[1]);
  size_t used = 2;
  if (action == "unset") {
    op.op = HeaderOp::Op::kUnset;
  } else if (action == "set" || action == "add" || action == "append" || action == "merge") {
    if (a.size() < 3) return refuse("needs a value");
    op.op = action == "set" ? HeaderOp::Op::kSet : HeaderOp::Op::kAdd;
    op.value = a[2];
    used = 3;
    if (action != "set" && action != "add") {
      approximations.push_back(absl::StrCat(action,
                                            ": rwproxy adds a field instead of joining the "
                                            "values with \", \" (equal for list-valued fields)"));
    }
  } else {
    return refuse(absl::StrCat("action ", action, " is not converted"));
  }
  for (size_t i = used; i < a.size(); ++i) {
    const std::string extra = absl::AsciiStrToLower(a[i]);
    if (extra == "early") return refuse("early is not converted");
    if (absl::StartsWith(extra, "env=") || absl::StartsWith(extra, "expr=")) {
      return refuse("conditional edits (env=, expr=) are not converted");
    }
    return refuse(absl::StrCat("unexpected argument '", a[i], "'"));
  }
  if (std::string why = LiteralValue(&op.value); !why.empty()) return refuse(why);
  if (std::string why = NameProblem(op.name, a[1], item.request); !why.empty()) return refuse(why);
  report->Set(item.verdict, approximations.empty() ? Kind::kConverted : Kind::kApproximated,
              absl::StrJoin(approximations, "; "));
  return op;
}

FoldedOps FoldHeaderOps(const std::vector<HeaderOp>& ops, bool request, Report* report) {
  FoldedOps out;
  struct State {
    bool remove = false;
    std::optional<std::string> set;
    std::vector<std::string> adds;
    int last_add = -1;
  };
  std::map<std::string, State> states;
  std::vector<std::string> order;
  for (const HeaderOp& op : ops) {
    if (op.request != request) continue;
    if (!states.contains(op.name)) order.push_back(op.name);
    State& state = states[op.name];
    switch (op.op) {
      case HeaderOp::Op::kUnset:
        state = State{true, std::nullopt, {}, -1};
        break;
      case HeaderOp::Op::kSet:
        state = State{false, op.value, {}, -1};
        break;
      case HeaderOp::Op::kAdd:
        state.adds.push_back(op.value);
        state.last_add = op.verdict;
        break;
    }
  }
  for (const std::string& name : order) {
    const State& state = states[name];
    if (state.set) {
      out.set[name] = *state.set;
    } else if (state.remove) {
      out.remove.push_back(name);
    }
    if (state.adds.size() > 1 && name == "set-cookie") {
      // Set-Cookie values cannot be joined (RFC 6265 §3): one field would be one cookie.
      report->Set(state.last_add, Kind::kRefused,
                  "several Set-Cookie values would have to become one field (one cookie)");
      out.add[name] = state.adds.front();
      continue;
    }
    if (!state.adds.empty()) out.add[name] = absl::StrJoin(state.adds, ", ");
    if (state.adds.size() > 1) {
      report->Set(state.last_add, Kind::kApproximated,
                  "several values added to one field become one field joined with \", \"");
    }
  }
  return out;
}

}  // namespace rwproxy::cli::apache
