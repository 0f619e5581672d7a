#include "cli/import/apache_plan.h"

#include <algorithm>

#include "absl/strings/str_cat.h"

namespace rwproxy::cli::apache {
namespace {

using Kind = VerdictKind;

void PlanRules(const Scope& scope, bool rules_dead, ClusterSet* clusters, Report* report,
               ScopePlan* plan) {
  const bool engine = scope.rewrite_engine.value_or(false);
  for (size_t i = 0; i < scope.rules.size(); ++i) {
    const RuleItem& rule = scope.rules[i];
    std::string why;
    Kind kind = Kind::kConverted;
    if (!engine) {
      why = absl::StrCat("no effect: RewriteEngine is not On in ", scope.label);
    } else if (rules_dead) {
      kind = Kind::kRefused;
      why = "not inherited by the <VirtualHost> sections (RewriteOptions Inherit is not converted)";
    }
    if (!why.empty()) {
      report->Set(rule.verdict, kind, why);
      for (int id : rule.cond_verdicts) report->Set(id, kind, why);
      plan->rules.emplace_back();
      continue;
    }
    plan->rules.push_back(PlanRewriteRule(rule, absl::StrCat("rewrite-", i + 1), clusters, report));
  }
}

void PlanLocations(const Scope& scope, ClusterSet* clusters, Report* report, ScopePlan* plan) {
  using Access = LocationItem::Access;
  for (size_t i = 0; i < scope.locations.size(); ++i) {
    const LocationItem& location = scope.locations[i];
    auto regex = LocationRegex(location);
    if (!regex.ok()) {
      report->Set(location.verdict, Kind::kRefused,
                  absl::StrCat("regex: ", regex.status().message()));
      for (int id : location.access_verdicts)
        report->Set(id, Kind::kRefused, "its <LocationMatch> is refused");
      plan->location_regex.emplace_back();
    } else {
      plan->location_regex.push_back(*regex);
      for (int id : location.access_verdicts) {
        if (report->verdict(id).kind == Kind::kRefused) continue;
        report->Set(id, Kind::kConverted,
                    location.access == Access::kDenied
                        ? ""
                        : "it only undoes an earlier Require all denied");
      }
    }
    // rwproxy edits headers per route: only routes defined in this <Location> get them.
    const bool proxied =
        std::any_of(scope.location_proxies.begin(), scope.location_proxies.end(),
                    [&](const ProxyItem& p) { return p.location == static_cast<int>(i); });
    const char* kNoRoute =
        "no ProxyPass inside this <Location>: rwproxy edits headers per route, "
        "not per path";
    for (const HeaderItem& item : location.headers) {
      if (!proxied) {
        report->Set(item.verdict, Kind::kRefused, kNoRoute);
      } else if (auto op = ParseHeaderOp(item, report)) {
        plan->location_headers[&location].push_back(*op);
      }
    }
    for (const ReverseItem& item : location.reverse) {
      if (!proxied) {
        report->Set(item.verdict, Kind::kRefused, kNoRoute);
        continue;
      }
      plan->location_reverse[&location].emplace_back(item.verdict,
                                                     PlanReverse(item, clusters, report));
    }
  }
  for (size_t i = 0; i < scope.location_proxies.size(); ++i) {
    const ProxyItem& item = scope.location_proxies[i];
    ProxyPlan proxy = PlanProxyPass(
        item, absl::StrCat("location-", item.location + 1, "-proxypass"), clusters, report);
    for (PlannedRoute& route : proxy.routes) route.location = &scope.locations[item.location];
    plan->location_proxies.push_back(std::move(proxy));
  }
}

}  // namespace

ScopePlan PlanScope(const Scope& scope, bool rules_dead, ClusterSet* clusters, Report* report) {
  ScopePlan plan;
  plan.scope = &scope;
  PlanRules(scope, rules_dead, clusters, report, &plan);
  PlanLocations(scope, clusters, report, &plan);
  int proxypass = 0, proxypassmatch = 0;
  for (const ProxyItem& item : scope.proxies) {
    const std::string name = item.regex ? absl::StrCat("proxypassmatch-", ++proxypassmatch)
                                        : absl::StrCat("proxypass-", ++proxypass);
    plan.proxies.push_back(PlanProxyPass(item, name, clusters, report));
  }
  int redirect = 0, redirectmatch = 0;
  for (const RedirectItem& item : scope.redirects) {
    const bool regex = item.node->Key() == "redirectmatch";
    const std::string name = regex ? absl::StrCat("redirectmatch-", ++redirectmatch)
                                   : absl::StrCat("redirect-", ++redirect);
    plan.redirects.push_back(PlanRedirect(item, name, report));
  }
  for (const HeaderItem& item : scope.headers) {
    if (auto op = ParseHeaderOp(item, report)) plan.headers.push_back(*op);
  }
  for (const ReverseItem& item : scope.reverse) {
    plan.reverse.emplace_back(item.verdict, PlanReverse(item, clusters, report));
  }
  return plan;
}

}  // namespace rwproxy::cli::apache
