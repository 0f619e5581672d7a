// AssembleRoutes (apache_plan.h): the routes of a scope in Apache's order of evaluation.

#include <algorithm>
#include <set>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "cli/import/apache_model.h"
#include "cli/import/apache_plan.h"

namespace rwproxy::cli::apache {
namespace {

using config::v1::HeaderMatch;
using Access = LocationItem::Access;

struct Deny {
  std::string regex;
  std::string literal;                     // every path it covers starts with this ("" unknown)
  std::vector<std::string> granted_after;  // later `Require all granted` sections override it
  std::vector<int> verdicts;
  const LocationItem* location = nullptr;
};

HeaderMatch PathCondition(const std::string& regex, bool invert) {
  HeaderMatch h;
  h.set_name(":path");
  h.set_regex(regex);
  h.set_invert(invert);
  return h;
}

std::vector<Deny> Denies(const Effective& e) {
  std::vector<std::pair<const LocationItem*, const std::optional<std::string>*>> all;
  for (const ScopePlan* plan : {e.main, e.own}) {
    if (plan == nullptr) continue;
    for (size_t i = 0; i < plan->scope->locations.size(); ++i) {
      all.emplace_back(&plan->scope->locations[i], &plan->location_regex[i]);
    }
  }
  std::vector<Deny> out;
  for (size_t i = 0; i < all.size(); ++i) {
    const auto& [location, regex] = all[i];
    if (location->access != Access::kDenied || !regex->has_value()) continue;
    Deny deny;
    deny.regex = **regex;
    deny.literal = location->regex ? LiteralPrefix(location->path) : location->path;
    deny.location = location;
    deny.verdicts = location->access_verdicts;
    deny.verdicts.push_back(location->verdict);
    for (size_t j = i + 1; j < all.size(); ++j) {
      if (all[j].first->access == Access::kGranted && all[j].second->has_value()) {
        deny.granted_after.push_back(**all[j].second);
      }
    }
    out.push_back(std::move(deny));
  }
  return out;
}

void AddDenyConditions(const Deny& deny, config::v1::Match* match) {
  *match->add_headers() = PathCondition(deny.regex, false);
  for (const std::string& granted : deny.granted_after) {
    *match->add_headers() = PathCondition(granted, true);
  }
}

bool Overlap(const std::string& a, const std::string& b) {
  return a.empty() || b.empty() || absl::StartsWith(a, b) || absl::StartsWith(b, a);
}

class Assembler {
 public:
  explicit Assembler(const Effective& e) : e_(e), denies_(Denies(e)) {}

  std::vector<PlannedRoute> Routes() {
    std::vector<HeaderMatch> skip;
    for (const RulePlan& plan : e_.own->rules) Add(plan.routes, plan.exclusion, "", &skip);
    skip.clear();
    std::vector<std::pair<const ProxyPlan*, std::string>> proxies;
    for (const ScopePlan* plan : {e_.main, e_.own}) {
      if (plan == nullptr) continue;
      for (const ProxyPlan& p : plan->location_proxies) proxies.emplace_back(&p, Tag(plan));
    }
    std::reverse(proxies.begin(), proxies.end());  // the last matching <Location> wins
    if (e_.main != nullptr && e_.Setting(&Scope::proxy_inherit).value_or(true)) {
      for (const ProxyPlan& p : e_.main->proxies) proxies.emplace_back(&p, "main-");
    }
    for (const ProxyPlan& p : e_.own->proxies) proxies.emplace_back(&p, "");
    for (const auto& [plan, tag] : proxies) Add(plan->routes, plan->exclusion, tag, &skip);
    for (const ScopePlan* plan : {e_.own, e_.main}) {  // mod_alias: the vhost's first
      if (plan == nullptr) continue;
      for (const auto& routes : plan->redirects) Add(routes, std::nullopt, Tag(plan), nullptr);
    }
    for (size_t k = 0; k < denies_.size(); ++k) {
      const Deny& deny = denies_[k];
      PlannedRoute route;
      route.name = absl::StrCat("location-", k + 1, "-denied");
      route.verdicts = deny.verdicts;
      const bool prefix = !deny.location->regex && absl::EndsWith(deny.location->path, "/");
      if (prefix) {
        route.match.set_path_prefix(deny.location->path);
      } else {
        route.match.set_path_regex(deny.regex);
      }
      for (const std::string& granted : deny.granted_after) {
        *route.match.add_headers() = PathCondition(granted, true);
      }
      route.status = 403;
      out_.push_back(std::move(route));
    }
    return std::move(out_);
  }

 private:
  std::string Tag(const ScopePlan* plan) const {
    return plan == e_.main && e_.main != nullptr ? "main-" : "";
  }

  // Appends `routes` (with the exclusions seen so far in this phase, and a 403 guard before each
  // one Apache access-checks), then records `exclusion` for the routes after it.
  void Add(const std::vector<PlannedRoute>& routes, const std::optional<HeaderMatch>& exclusion,
           const std::string& tag, std::vector<HeaderMatch>* skip) {
    for (PlannedRoute route : routes) {
      route.name = tag + route.name;
      if (skip != nullptr) {
        for (HeaderMatch h : *skip) {
          h.set_invert(true);
          *route.match.add_headers() = h;
        }
      }
      if (route.Checked()) {
        for (size_t k = 0; k < denies_.size(); ++k) {
          const Deny& deny = denies_[k];
          if (!Overlap(route.literal_prefix, deny.literal)) continue;
          PlannedRoute guard;
          guard.name = absl::StrCat(route.name, "-denied",
                                    denies_.size() > 1 ? absl::StrCat("-", k + 1) : "");
          guard.verdicts = route.verdicts;
          guard.verdicts.insert(guard.verdicts.end(), deny.verdicts.begin(), deny.verdicts.end());
          guard.match = route.match;
          AddDenyConditions(deny, &guard.match);
          guard.status = 403;
          out_.push_back(std::move(guard));
        }
      }
      out_.push_back(std::move(route));
    }
    if (exclusion && skip != nullptr) skip->push_back(*exclusion);
  }

  const Effective& e_;
  std::vector<Deny> denies_;
  std::vector<PlannedRoute> out_;
};

}  // namespace

std::vector<PlannedRoute> AssembleRoutes(const Effective& e) { return Assembler(e).Routes(); }

}  // namespace rwproxy::cli::apache
