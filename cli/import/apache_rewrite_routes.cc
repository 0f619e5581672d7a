// PlanRewriteRule (apache_rewrite.h): a shaped rule and its conditions -> routes.
#include <algorithm>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "cli/import/apache_lexer.h"
#include "cli/import/apache_regex.h"
#include "cli/import/apache_rewrite.h"
#include "cli/import/apache_rewrite_internal.h"

namespace rwproxy::cli::apache {
namespace {

using Kind = VerdictKind;
using rewrite_internal::Flags;
using rewrite_internal::RuleShape;
using rewrite_internal::SPiece;

struct Choice {
  int cond = 0;
  const CondAlt* alt = nullptr;
};

// Every combination of the conditions' alternatives ([OR] clauses), in Apache's order.
absl::StatusOr<std::vector<std::vector<Choice>>> Expand(const std::vector<Cond>& conds) {
  std::vector<std::vector<Choice>> out = {{}};
  size_t i = 0;
  while (i < conds.size()) {
    size_t j = i;
    while (j < conds.size() && conds[j].ornext) ++j;
    if (j == conds.size()) return absl::InvalidArgumentError("[OR] on the last RewriteCond");
    std::vector<Choice> clause;
    for (size_t k = i; k <= j; ++k) {
      for (const CondAlt& alt : conds[k].alts) clause.push_back({static_cast<int>(k), &alt});
    }
    std::vector<std::vector<Choice>> next;
    for (const auto& prefix : out) {
      for (const Choice& choice : clause) {
        next.push_back(prefix);
        next.back().push_back(choice);
        if (next.size() > kMaxExpansion) {
          return absl::InvalidArgumentError(
              absl::StrCat("its conditions would need more than ", kMaxExpansion, " routes"));
        }
      }
    }
    out = std::move(next);
    i = j + 1;
  }
  return out;
}

bool Has(const std::vector<SPiece>& t, SPiece::K kind) {
  return std::any_of(t.begin(), t.end(), [kind](const SPiece& p) { return p.k == kind; });
}

// True when the piece after the URL's host certainly starts with '/', so that the host ends
// there: %{REQUEST_URI}, $0 of an anchored pattern, or $1 of a pattern that starts "^(" (the seed
// idiom `^(.*)$ http://backend$1`).
bool StartsWithSlash(const SPiece& p, const std::string& pattern) {
  if (p.k == SPiece::K::kUri) return true;
  if (p.k != SPiece::K::kPath) return false;
  if (p.group == 0) return pattern.starts_with("^");
  return p.group == 1 && pattern.starts_with("^(") && !pattern.starts_with("^(?");
}

// "http://host:port" and the rest of a [P] target.
absl::Status SplitAuthority(const std::vector<SPiece>& t, const std::string& pattern,
                            std::string* base, std::vector<SPiece>* rest) {
  const std::string& first = t[0].text;
  const size_t start = first.find("://") + 3;
  const size_t end = first.find_first_of("/?", start);
  *base = first.substr(0, end);
  if (base->size() == start)
    return absl::InvalidArgumentError("the backend host comes from the request");
  if (end == std::string::npos && t.size() > 1 && !StartsWithSlash(t[1], pattern)) {
    return absl::InvalidArgumentError(
        "the backend host runs into a back-reference, so it would depend on the request");
  }
  if (end != std::string::npos) rest->push_back({SPiece::K::kLiteral, first.substr(end), 0});
  rest->insert(rest->end(), t.begin() + 1, t.end());
  return absl::OkStatus();
}

Template ToTemplate(const std::vector<SPiece>& t, int host_group) {
  Template out;
  for (const SPiece& p : t) {
    switch (p.k) {
      case SPiece::K::kLiteral:
        AppendLiteral(&out, p.text);
        break;
      case SPiece::K::kPath:
        out.push_back({Piece::Kind::kPathGroup, "", p.group});
        break;
      case SPiece::K::kCond:
        out.push_back({Piece::Kind::kCondGroup, "", p.group});
        break;
      case SPiece::K::kHost:
        out.push_back({Piece::Kind::kCondGroup, "", host_group});
        break;
      case SPiece::K::kUri:
        out.push_back({Piece::Kind::kPathGroup, "", 0});
        break;
      case SPiece::K::kQuery:
        break;
    }
  }
  return out;
}

// Adds the conditions of one combination to `match`; checks that %N still points where Apache
// takes it from.
absl::Status AddConditions(const std::vector<Choice>& choices, const RuleItem& item, bool uses_cond,
                           int max_cond_group, config::v1::Match* match) {
  int apache_last = -1, apache_groups = 0, rwproxy_last = -1, query_cond = -1;
  for (const Choice& choice : choices) {
    for (const config::v1::HeaderMatch& h : choice.alt->headers) {
      *match->add_headers() = h;
      if (h.value_case() == config::v1::HeaderMatch::kRegex && !h.invert())
        rwproxy_last = choice.cond;
    }
    if (choice.alt->query) {
      if (match->has_query()) return absl::InvalidArgumentError("two QUERY_STRING conditions");
      *match->mutable_query() = *choice.alt->query;
      if (!choice.alt->query->invert()) query_cond = choice.cond;
    }
    if (choice.alt->apache_regex) {
      apache_last = choice.cond;
      apache_groups = choice.alt->groups;
    }
  }
  if (query_cond >= 0) rwproxy_last = query_cond;
  if (!uses_cond) return absl::OkStatus();
  auto line = [&](int cond) { return cond < 0 ? 0 : item.conds[cond]->line; };
  if (apache_last < 0) {
    return absl::InvalidArgumentError(
        "%N refers to a RewriteCond regex and there is none (write \\% for a literal '%')");
  }
  if (rwproxy_last != apache_last) {
    return absl::InvalidArgumentError(absl::StrCat(
        "%N comes from the RewriteCond at line ", line(apache_last),
        " in Apache but would come from the one at line ", line(rwproxy_last), " in rwproxy"));
  }
  if (max_cond_group > apache_groups) {
    return absl::InvalidArgumentError(
        absl::StrCat("%", max_cond_group, " but the RewriteCond at line ", line(apache_last),
                     " has ", apache_groups, " groups"));
  }
  return absl::OkStatus();
}

// A route's methods instead of an exact ":method" condition, when that is all there is.
void MethodsFromConditions(config::v1::Match* match) {
  for (int i = 0; i < match->headers_size(); ++i) {
    const config::v1::HeaderMatch& h = match->headers(i);
    if (h.name() == ":method" && h.value_case() == config::v1::HeaderMatch::kExact && !h.invert() &&
        match->methods().empty()) {
      match->add_methods(h.exact());
      match->mutable_headers()->erase(match->mutable_headers()->begin() + i);
      return;
    }
  }
}

void AddOnce(std::vector<std::string>* notes, const std::string& note) {
  if (std::find(notes->begin(), notes->end(), note) == notes->end()) notes->push_back(note);
}

bool HasQuery(const Template& t) {
  return std::any_of(t.begin(), t.end(), [](const Piece& p) {
    return p.kind == Piece::Kind::kLiteral && p.text.find('?') != std::string::npos;
  });
}

// The rule's target for one route: the Host group (if any), then the pieces.
absl::StatusOr<Template> TargetTemplate(const RuleShape& shape, const std::vector<SPiece>& target,
                                        int host_group, PlannedRoute* route,
                                        std::vector<std::string>* approximations) {
  Template t;
  if (shape.relative_redirect && host_group > 0) {
    AppendLiteral(&t, "http://");
    t.push_back({Piece::Kind::kCondGroup, "", host_group});
  }
  if (route->action == PlannedRoute::Action::kProxy &&
      (target.empty() || (target[0].k == SPiece::K::kLiteral && target[0].text[0] == '?'))) {
    AppendLiteral(&t, "/");
  }
  for (const Piece& p : ToTemplate(target, host_group)) {
    if (p.kind == Piece::Kind::kLiteral) {
      AppendLiteral(&t, p.text);
    } else {
      t.push_back(p);
    }
  }
  if (route->action == PlannedRoute::Action::kRedirect) {
    if (shape.query_append) {
      return absl::InvalidArgumentError(
          "QSA on a redirect whose target has a query: rwproxy redirects cannot append the "
          "original query to it");
    }
    if (shape.query_discard && !HasQuery(t)) {
      AppendLiteral(&t, "?");
      AddOnce(approximations, "the Location ends in an empty '?' (how rwproxy drops the query)");
    }
  }
  return t;
}

// The route's path regex: the pattern, wrapped so that $0 is the whole path when the target
// uses %{REQUEST_URI}. Checks the target's $N against the pattern's groups.
absl::StatusOr<std::string> RuleRegex(const Re2Pattern& re, bool nc,
                                      const std::vector<SPiece>& target) {
  int max_path = 0;
  bool path_zero = false;
  for (const SPiece& p : target) {
    if (p.k == SPiece::K::kPath) max_path = std::max(max_path, p.group);
    path_zero |= p.k == SPiece::K::kPath && p.group == 0;
  }
  if (max_path > re.groups) {
    return absl::InvalidArgumentError(
        absl::StrCat("$", max_path, " but the pattern has ", re.groups, " groups"));
  }
  std::string regex = re.pattern.empty() ? "^" : re.pattern;
  if (Has(target, SPiece::K::kUri)) {
    if (path_zero) return absl::InvalidArgumentError("$0 together with %{REQUEST_URI}");
    regex = absl::StrCat("^(?s:.*?)(?:", regex, ")(?s:.*)$");
    if (auto check = PcreToRe2(regex, nc); !check.ok()) return check.status();
  }
  return regex;
}

// [P]: the cluster of the target's scheme://host:port; *target keeps the path and query part.
absl::Status ResolveBackend(const RuleShape& shape, const std::string& pattern,
                            ClusterSet* clusters, PlannedRoute* base, std::vector<SPiece>* target) {
  std::string authority;
  std::vector<SPiece> rest;
  if (absl::Status s = SplitAuthority(*target, pattern, &authority, &rest); !s.ok()) return s;
  auto backend = clusters->Target(authority);
  if (!backend.ok()) return backend.status();
  base->cluster = backend->cluster;
  base->backend_host = backend->host_header;
  base->host_inexact = backend->host_inexact;
  base->timeout = backend->timeout;
  base->query = shape.query_append ? "append" : shape.query_discard ? "discard" : "";
  *target = std::move(rest);
  return absl::OkStatus();
}

absl::StatusOr<std::vector<Cond>> ConvertConds(const RuleItem& item, bool uses_cond) {
  std::vector<Cond> conds;
  for (const Node* node : item.conds) {
    auto cond = ConvertCond(*node, uses_cond);
    if (!cond.ok()) {
      return absl::InvalidArgumentError(
          absl::StrCat("RewriteCond at line ", node->line, ": ", cond.status().message()));
    }
    conds.push_back(std::move(*cond));
  }
  return conds;
}

// The Host for %{HTTP_HOST} or a relative [R] target: a capturing condition on Host, last, so
// that %1 is its group. Returns that group, or -1 when %N is taken (then a relative target stays
// relative, an approximation).
absl::StatusOr<int> HostCapture(const std::vector<SPiece>& target, bool uses_cond,
                                config::v1::Match* match,
                                std::vector<std::string>* approximations) {
  const bool query_regex = match->has_query() && !match->query().invert();
  if (!uses_cond && !query_regex) {
    config::v1::HeaderMatch* host = match->add_headers();
    host->set_name("host");
    host->set_regex("^(.+)$");
    return 1;
  }
  if (Has(target, SPiece::K::kHost)) {
    return absl::InvalidArgumentError("%{HTTP_HOST} together with a condition that sets %N");
  }
  AddOnce(approximations,
          "the Location stays relative; Apache makes it absolute with the request's host");
  return -1;
}

absl::Status BuildRoutes(const RuleItem& item, const Flags& f, const Re2Pattern& re,
                         const std::string& pattern, const std::string& name, RuleShape* shape,
                         ClusterSet* clusters, std::vector<std::string>* approximations,
                         std::vector<PlannedRoute>* out) {
  std::vector<SPiece> target = shape->target;
  const bool uses_cond = Has(target, SPiece::K::kCond);
  int max_cond = 0;
  for (const SPiece& p : target) {
    if (p.k == SPiece::K::kCond) max_cond = std::max(max_cond, p.group);
  }
  auto regex = RuleRegex(re, f.nc, target);
  if (!regex.ok()) return regex.status();
  PlannedRoute base = shape->route;
  if (base.action == PlannedRoute::Action::kProxy) {
    if (absl::Status s = ResolveBackend(*shape, pattern, clusters, &base, &target); !s.ok()) {
      return s;
    }
  }
  auto conds = ConvertConds(item, uses_cond);
  if (!conds.ok()) return conds.status();
  auto expansions = Expand(*conds);
  if (!expansions.ok()) return expansions.status();
  const bool needs_host = Has(target, SPiece::K::kHost) || shape->relative_redirect;
  for (size_t k = 0; k < expansions->size(); ++k) {
    PlannedRoute route = base;
    route.name = expansions->size() > 1 ? absl::StrCat(name, "-", k + 1) : name;
    route.verdicts = {item.verdict};
    route.verdicts.insert(route.verdicts.end(), item.cond_verdicts.begin(),
                          item.cond_verdicts.end());
    route.match.set_path_regex(*regex);
    if (f.nc) route.match.set_case_insensitive(true);
    if (!f.nc) route.literal_prefix = LiteralPrefix(pattern);
    absl::Status s = AddConditions((*expansions)[k], item, uses_cond, max_cond, &route.match);
    if (!s.ok()) return s;
    absl::StatusOr<int> host_group = -1;
    if (needs_host) host_group = HostCapture(target, uses_cond, &route.match, approximations);
    if (!host_group.ok()) return host_group.status();
    MethodsFromConditions(&route.match);
    auto t = TargetTemplate(*shape, target, *host_group, &route, approximations);
    if (!t.ok()) return t.status();
    if (route.action != PlannedRoute::Action::kRespond) route.path = std::move(*t);
    out->push_back(std::move(route));
  }
  return absl::OkStatus();
}

}  // namespace

RulePlan PlanRewriteRule(const RuleItem& item, const std::string& name, ClusterSet* clusters,
                         Report* report) {
  RulePlan plan;
  std::vector<std::string> notes, approximations;
  auto refuse = [&](const std::string& why) {
    report->Set(item.verdict, Kind::kRefused, why);
    for (int id : item.cond_verdicts) {
      report->Set(id, Kind::kRefused,
                  absl::StrCat("its RewriteRule at line ", item.rule->line, " is refused"));
    }
    return RulePlan{};
  };
  auto args = SplitRewriteArgs(item.rule->args);
  if (!args.ok()) return refuse(std::string(args.status().message()));
  Flags f;
  if (args->size() == 3) {
    if (absl::Status s = rewrite_internal::ParseFlags((*args)[2], &f); !s.ok()) {
      return refuse(std::string(s.message()));
    }
  }
  const std::string& pattern = (*args)[0];
  if (!pattern.empty() && pattern[0] == '!')
    return refuse("a negated pattern (!) is not converted");
  auto re = PcreToRe2(pattern, f.nc);
  if (!re.ok()) return refuse(absl::StrCat("pattern: ", re.status().message()));
  RuleShape shape;
  bool exclusion = false;
  std::string why;
  if (!rewrite_internal::ShapeRule(f, (*args)[1], !item.conds.empty(), &shape, &notes,
                                   &approximations, &exclusion, &why)) {
    return refuse(why);
  }
  notes.insert(notes.end(), f.notes.begin(), f.notes.end());
  auto finish = [&](Kind kind) {
    std::vector<std::string> all = approximations;
    all.insert(all.end(), notes.begin(), notes.end());
    report->Set(item.verdict, kind, absl::StrJoin(all, "; "));
    for (int id : item.cond_verdicts) report->Set(id, kind);
  };
  if (exclusion) {
    config::v1::HeaderMatch skip;
    skip.set_name(":path");
    skip.set_regex((f.nc ? "(?i)" : "") + (re->pattern.empty() ? "^" : re->pattern));
    plan.exclusion = skip;
    finish(Kind::kConverted);
    return plan;
  }
  if (shape.route.action == PlannedRoute::Action::kRespond && shape.route.status == 0) {
    finish(Kind::kConverted);
    return plan;
  }
  absl::Status status = rewrite_internal::ShapeQuery(f, &shape);
  if (!status.ok()) return refuse(std::string(status.message()));
  status =
      BuildRoutes(item, f, *re, pattern, name, &shape, clusters, &approximations, &plan.routes);
  if (!status.ok()) return refuse(std::string(status.message()));
  finish(approximations.empty() ? Kind::kConverted : Kind::kApproximated);
  return plan;
}

}  // namespace rwproxy::cli::apache
