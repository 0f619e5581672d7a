#include "server/router/route_table.h"

#include <algorithm>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "server/util/sv.h"

namespace rwproxy {
namespace {

constexpr int kMaxGroups = kMaxRouteGroups;

// Matches one route. On success fills groups[0..group_count]; on failure, when why_not is set,
// explains the first reason.
bool Matches(const CompiledRoute& route, const RouteRequest& request, std::string_view* groups,
             std::string* why_not) {
  switch (route.kind) {
    case MatchSpec::Kind::kPrefix:
      if (!request.path.starts_with(route.path)) {
        if (why_not) *why_not = absl::StrCat("path does not start with ", route.path);
        return false;
      }
      groups[0] = request.path;
      break;
    case MatchSpec::Kind::kExact:
      if (request.path != route.path) {
        if (why_not) *why_not = absl::StrCat("path is not ", route.path);
        return false;
      }
      groups[0] = request.path;
      break;
    case MatchSpec::Kind::kRegex: {
      re2::StringPiece sub[kMaxGroups + 1];
      re2::StringPiece input(request.path.data(), request.path.size());
      if (!route.regex->Match(input, 0, input.size(), RE2::UNANCHORED, sub,
                              route.group_count + 1)) {
        if (why_not) *why_not = absl::StrCat("path does not match ", route.regex->pattern());
        return false;
      }
      for (int i = 0; i <= route.group_count; ++i) groups[i] = std::string_view(sub[i].data(), sub[i].size());
      break;
    }
  }
  if (!route.methods.empty() &&
      std::find(route.methods.begin(), route.methods.end(), request.method) == route.methods.end()) {
    if (why_not) {
      *why_not = absl::StrCat("method ", Sv(request.method), " is not one of ",
                              absl::StrJoin(route.methods, ", "));
    }
    return false;
  }
  for (const auto& [name, value] : route.headers) {
    std::optional<std::string_view> found;
    if (request.headers) found = request.headers->Find(name);
    if (!found) {
      if (why_not) *why_not = absl::StrCat("header ", name, " is missing");
      return false;
    }
    if (*found != value) {
      if (why_not) *why_not = absl::StrCat("header ", name, " is not '", value, "'");
      return false;
    }
  }
  return true;
}

}  // namespace

void SplitTarget(std::string_view target, std::string_view* path, std::string_view* query) {
  size_t q = target.find('?');
  *path = target.substr(0, q);
  *query = q == std::string_view::npos ? std::string_view() : target.substr(q);
}

RouteTable RouteTable::Build(const std::vector<RouteSpec>& routes,
                             const absl::flat_hash_map<std::string, int>& cluster_index,
                             std::vector<FieldError>* errors) {
  RouteTable table;
  table.routes_.reserve(routes.size());
  for (size_t i = 0; i < routes.size(); ++i) {
    auto route = CompileRoute(routes[i], static_cast<int>(i), cluster_index, errors);
    if (route) {
      route->index = static_cast<uint32_t>(table.routes_.size());
      table.routes_.push_back(std::move(route));
    }
  }
  return table;
}

RouteDecision RouteTable::Decide(const CompiledRoute& route, const RouteRequest& request,
                                 const std::string_view* groups) const {
  RouteDecision decision;
  decision.route = &route;
  if (route.action == CompiledRoute::Action::kRespond) return decision;
  std::string& out = decision.target;
  if (route.path_rewrite) {
    route.path_rewrite->Expand(groups, route.group_count + 1, &out);
    if (!route.path_rewrite->ContainsQuery()) out.append(request.query);
  } else if (route.prefix_rewrite) {
    out.reserve(route.prefix_rewrite->size() + request.path.size() + request.query.size());
    out.append(*route.prefix_rewrite);
    out.append(request.path.substr(route.path.size()));
    out.append(request.query);
  } else {
    out.reserve(request.path.size() + request.query.size());
    out.append(request.path);
    out.append(request.query);
  }
  return decision;
}

RouteDecision RouteTable::Route(const RouteRequest& request) const {
  std::string_view groups[kMaxGroups + 1];
  for (const auto& route : routes_) {
    if (Matches(*route, request, groups, nullptr)) return Decide(*route, request, groups);
  }
  return {};
}

RouteDecision RouteTable::Explain(const RouteRequest& request, std::vector<Check>* checks) const {
  std::string_view groups[kMaxGroups + 1];
  for (const auto& route : routes_) {
    Check check{route->name, false, ""};
    check.matched = Matches(*route, request, groups, &check.reason);
    if (check.matched) check.reason = "matched";
    checks->push_back(std::move(check));
    if (checks->back().matched) return Decide(*route, request, groups);
  }
  return {};
}

}  // namespace rwproxy
