#include "config/compiled_route.h"

#include "absl/strings/str_cat.h"

namespace rwproxy {
namespace {

// Compiles `pattern` with the program-size and group caps. On a problem appends it at `field`
// and returns null.
std::unique_ptr<RE2> CompileRegex(const std::string& pattern, bool case_insensitive,
                                  const std::string& field, std::vector<FieldError>* errors) {
  RE2::Options options;
  options.set_log_errors(false);
  if (case_insensitive) options.set_case_sensitive(false);
  auto regex = std::make_unique<RE2>(pattern, options);
  if (!regex->ok()) {
    errors->push_back({field, regex->error()});  // RE2 names the pattern itself
  } else if (regex->ProgramSize() > kMaxRegexProgramSize) {
    errors->push_back({field, absl::StrCat("regex too large (program size ", regex->ProgramSize(),
                                           ", limit ", kMaxRegexProgramSize, ")")});
  } else if (regex->NumberOfCapturingGroups() > kMaxRouteGroups) {
    errors->push_back({field, absl::StrCat("at most ", kMaxRouteGroups, " capture groups")});
  } else {
    return regex;
  }
  return nullptr;
}

CompiledHeaderCondition::Source SourceOf(const std::string& name) {
  if (name == ":method") return CompiledHeaderCondition::Source::kMethod;
  if (name == ":path") return CompiledHeaderCondition::Source::kPath;
  return CompiledHeaderCondition::Source::kHeader;
}

// Fills the match part of `route`: the path, methods, hosts, header and query conditions, and
// which condition provides %N. `at` is the route's field path ("routes[2]").
void CompileMatch(const MatchSpec& match, const std::string& at, CompiledRoute* route,
                  std::vector<FieldError>* errors) {
  route->kind = match.kind;
  route->case_insensitive = match.case_insensitive;
  route->methods = match.methods;
  route->hosts = match.hosts;
  if (match.kind == MatchSpec::Kind::kRegex) {
    route->regex =
        CompileRegex(match.path, match.case_insensitive, at + ".match.path_regex", errors);
    if (route->regex) route->group_count = route->regex->NumberOfCapturingGroups();
  } else {
    route->path = match.path;
  }
  for (size_t i = 0; i < match.headers.size(); ++i) {
    CompiledHeaderCondition& condition = route->headers.emplace_back();
    condition.spec = match.headers[i];
    condition.source = SourceOf(condition.spec.name);
    if (condition.spec.kind != HeaderCondition::Kind::kRegex) continue;
    condition.regex = CompileRegex(condition.spec.value, false,
                                   absl::StrCat(at, ".match.headers[", i, "].regex"), errors);
    if (condition.regex && !condition.spec.invert) {
      route->capture_from = CompiledRoute::CaptureFrom::kHeader;
      route->capture_index = static_cast<int>(i);
      route->capture_group_count = condition.regex->NumberOfCapturingGroups();
    }
  }
  if (match.query) {
    route->query = match.query;
    route->query_regex = CompileRegex(match.query->regex, false, at + ".match.query.regex", errors);
    if (route->query_regex && !match.query->invert) {
      route->capture_from = CompiledRoute::CaptureFrom::kQuery;
      route->capture_index = -1;
      route->capture_group_count = route->query_regex->NumberOfCapturingGroups();
    }
  }
}

void CompileBackends(const ClusterAction& cluster, const std::string& at,
                     const absl::flat_hash_map<std::string, int>& clusters, CompiledRoute* route,
                     std::vector<FieldError>* errors) {
  const bool split = cluster.backends.size() != 1;
  for (size_t b = 0; b < cluster.backends.size(); ++b) {
    const BackendSpec& backend = cluster.backends[b];
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
}

}  // namespace

std::unique_ptr<CompiledRoute> CompileRoute(const RouteSpec& spec, int index,
                                            const absl::flat_hash_map<std::string, int>& clusters,
                                            std::vector<FieldError>* errors) {
  const std::string at = absl::StrCat("routes[", index, "]");
  auto route = std::make_unique<CompiledRoute>();
  route->name = spec.name;
  route->timeout = spec.timeout;
  route->request_headers = spec.request_headers;
  route->response_headers = spec.response_headers;
  size_t errors_before = errors->size();
  CompileMatch(spec.match, at, route.get(), errors);
  // A template's $N and %N are checked against the regexes' groups; after a regex error that
  // check would only add a misleading second error.
  const bool regex_failed = errors->size() != errors_before;
  const int condition_groups = route->capture_from == CompiledRoute::CaptureFrom::kNone
                                   ? RewriteTemplate::kNoConditionGroups
                                   : route->capture_group_count;
  auto parse = [&](const std::string& text, const std::string& field) {
    if (regex_failed) return;
    auto t = RewriteTemplate::Parse(text, route->group_count, condition_groups);
    if (!t.ok()) {
      errors->push_back({field, std::string(t.status().message())});
      return;
    }
    route->path_rewrite = std::move(*t);
    route->template_text = text;
  };
  if (const auto* cluster = std::get_if<ClusterAction>(&spec.action)) {
    route->action = CompiledRoute::Action::kCluster;
    CompileBackends(*cluster, at, clusters, route.get(), errors);
    route->retry = spec.retry;
    if (spec.rewrite.path) parse(*spec.rewrite.path, at + ".rewrite.path");
    route->prefix_rewrite = spec.rewrite.prefix;
    route->host_rewrite = spec.rewrite.host;
    route->host_from_endpoint = spec.rewrite.host_from_endpoint;
    route->query_mode = spec.rewrite.query;
    route->upgrades = spec.upgrades;
    route->upgrade_idle_timeout = spec.upgrade_idle_timeout;
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

}  // namespace rwproxy
