#include "config/compiled_route.h"

#include "absl/strings/str_cat.h"

namespace rwproxy {

std::unique_ptr<CompiledRoute> CompileRoute(const RouteSpec& spec, int index,
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
    } else if (route->regex->NumberOfCapturingGroups() > kMaxRouteGroups) {
      errors->push_back({field, absl::StrCat("at most ", kMaxRouteGroups, " capture groups")});
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

}  // namespace rwproxy
