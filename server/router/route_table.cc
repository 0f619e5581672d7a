#include "server/router/route_table.h"

#include <algorithm>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "server/util/sv.h"

namespace rwproxy {
namespace {

constexpr int kMaxRegexProgramSize = 4096;  // RE2 program size cap (linear-time, bounded memory)
constexpr int kMaxGroups = 9;

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

std::unique_ptr<CompiledRoute> Compile(const RouteSpec& spec, int index,
                                       const absl::flat_hash_map<std::string, int>& clusters,
                                       std::vector<FieldError>* errors) {
  const std::string at = absl::StrCat("routes[", index, "]");
  auto route = std::make_unique<CompiledRoute>();
  route->name = spec.name;
  route->kind = spec.match.kind;
  route->methods = spec.match.methods;
  route->headers = spec.match.headers;
  route->timeout = spec.timeout;
  size_t errors_before = errors->size();
  if (spec.match.kind == MatchSpec::Kind::kRegex) {
    RE2::Options options;
    options.set_log_errors(false);
    route->regex = std::make_unique<RE2>(spec.match.path, options);
    const std::string field = at + ".match.path_regex";
    if (!route->regex->ok()) {
      errors->push_back({field, route->regex->error()});  // RE2 names the pattern itself
    } else if (route->regex->ProgramSize() > kMaxRegexProgramSize) {
      errors->push_back({field, absl::StrCat("regex too large (program size ",
                                             route->regex->ProgramSize(), ", limit ",
                                             kMaxRegexProgramSize, ")")});
    } else if (route->regex->NumberOfCapturingGroups() > kMaxGroups) {
      errors->push_back({field, absl::StrCat("at most ", kMaxGroups, " capture groups")});
    } else {
      route->group_count = route->regex->NumberOfCapturingGroups();
    }
  } else {
    route->path = spec.match.path;
  }
  // A template's $N is checked against the regex's groups; after a regex error that check would
  // only add a misleading second error.
  const bool regex_failed = errors->size() != errors_before;
  auto parse = [&](const std::string& text, const std::string& field) {
    if (regex_failed) return;
    auto t = RewriteTemplate::Parse(text, route->group_count);
    if (!t.ok()) {
      errors->push_back({field, std::string(t.status().message())});
      return;
    }
    route->path_rewrite = std::move(*t);
    route->template_text = text;
  };
  if (const auto* cluster = std::get_if<ClusterAction>(&spec.action)) {
    route->action = CompiledRoute::Action::kCluster;
    const bool split = cluster->backends.size() != 1;
    for (size_t b = 0; b < cluster->backends.size(); ++b) {
      const BackendSpec& backend = cluster->backends[b];
      CompiledBackend& out = route->backends.emplace_back();
      out.cluster_name = backend.cluster;
      out.weight = backend.weight;
      route->total_weight += backend.weight;
      out.cumulative = route->total_weight;
      auto it = clusters.find(backend.cluster);
      if (it == clusters.end()) {
        errors->push_back({split ? absl::StrCat(at, ".backends[", b, "].cluster") : at + ".cluster",
                           absl::StrCat("unknown cluster '", backend.cluster, "'")});
      } else {
        out.cluster_index = it->second;
      }
    }
    if (route->total_weight == 0) {
      errors->push_back({at + ".backends", "at least one backend needs a weight > 0"});
    }
    route->retry = spec.retry;
    if (spec.rewrite.path) parse(*spec.rewrite.path, at + ".rewrite.path");
    route->prefix_rewrite = spec.rewrite.prefix;
    route->host_rewrite = spec.rewrite.host;
  } else if (const auto* redirect = std::get_if<RedirectSpec>(&spec.action)) {
    route->action = CompiledRoute::Action::kRedirect;
    route->status = redirect->status;
    parse(redirect->location, at + ".redirect.location");
  } else {
    const auto& respond = std::get<RespondSpec>(spec.action);
    route->action = CompiledRoute::Action::kRespond;
    route->status = respond.status;
    route->body = respond.body;
  }
  if (errors->size() != errors_before) return nullptr;
  return route;
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
    auto route = Compile(routes[i], static_cast<int>(i), cluster_index, errors);
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
