#include "server/router/route_table.h"

#include "server/router/route_match.h"

namespace rwproxy {
namespace {

using router_internal::MatchGroups;
using router_internal::MatchRoute;
using router_internal::MatchTrace;

// Appends the request's query (`query`: "" or "?...") to the target in *out as rewrite.query
// says. `template_query`: the path template wrote its own query (a '?').
void AppendQuery(QueryMode mode, std::string_view query, bool template_query, std::string* out) {
  switch (mode) {
    case QueryMode::kKeep:  // the original query, unless the template wrote one
      if (!template_query) out->append(query);
      return;
    case QueryMode::kDiscard:
      return;
    case QueryMode::kAppend:
      break;
  }
  // kAppend: the template's query, '&', the original one; no empty '?' or dangling '&'.
  const std::string_view original = query.empty() ? query : query.substr(1);
  if (template_query) {
    while (!out->empty() && (out->back() == '&' || out->back() == '?')) out->pop_back();
  }
  if (original.empty()) return;
  out->push_back(out->find('?') == std::string::npos ? '?' : '&');
  out->append(original);
}

RouteDecision Decide(const CompiledRoute& route, const RouteRequest& request,
                     const MatchGroups& groups) {
  RouteDecision decision;
  decision.route = &route;
  if (route.action == CompiledRoute::Action::kRespond) return decision;
  std::string& out = decision.target;
  if (route.path_rewrite) {
    const int condition_groups =
        route.capture_from == CompiledRoute::CaptureFrom::kNone ? 0 : route.capture_group_count + 1;
    decision.dot_segment_capture = !route.path_rewrite->Expand(
        groups.path, route.group_count + 1, groups.condition, condition_groups, &out);
    // A template that starts with a group ($1 of "^/?(.*)$") may expand to "x" or "": the
    // upstream request target is origin-form, so it always starts with '/'.
    if (route.action == CompiledRoute::Action::kCluster && (out.empty() || out[0] != '/')) {
      out.insert(out.begin(), '/');
    }
    AppendQuery(route.query_mode, request.query, route.path_rewrite->ContainsQuery(), &out);
  } else if (route.prefix_rewrite) {
    out.reserve(route.prefix_rewrite->size() + request.path.size() + request.query.size());
    out.append(*route.prefix_rewrite);
    out.append(request.path.substr(route.path.size()));
    AppendQuery(route.query_mode, request.query, false, &out);
  } else {
    out.reserve(request.path.size() + request.query.size());
    out.append(request.path);
    AppendQuery(route.query_mode, request.query, false, &out);
  }
  return decision;
}

void FillCaptures(const CompiledRoute& route, const MatchGroups& groups,
                  RouteTable::Captures* captures) {
  for (int i = 0; i <= route.group_count; ++i) captures->path.emplace_back(groups.path[i]);
  if (route.capture_from == CompiledRoute::CaptureFrom::kNone) return;
  for (int i = 0; i <= route.capture_group_count; ++i) {
    captures->condition.emplace_back(groups.condition[i]);
  }
  captures->condition_source = router_internal::DescribeCaptureCondition(route);
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

RouteDecision RouteTable::Route(const RouteRequest& request) const {
  MatchGroups groups;
  for (const auto& route : routes_) {
    if (MatchRoute(*route, request, &groups, nullptr)) return Decide(*route, request, groups);
  }
  return {};
}

RouteDecision RouteTable::Explain(const RouteRequest& request, std::vector<Check>* checks,
                                  Captures* captures) const {
  MatchGroups groups;
  for (const auto& route : routes_) {
    MatchTrace trace;
    Check& check = checks->emplace_back();
    check.route = route->name;
    check.matched = MatchRoute(*route, request, &groups, &trace);
    check.reason = check.matched ? "matched" : std::move(trace.reason);
    check.conditions = std::move(trace.conditions);
    if (!check.matched) continue;
    if (captures != nullptr) FillCaptures(*route, groups, captures);
    return Decide(*route, request, groups);
  }
  return {};
}

}  // namespace rwproxy
