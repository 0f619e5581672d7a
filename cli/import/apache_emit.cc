// EmitRoutes (apache_plan.h), ConvertApache and ImportApache (apache_import.h).
#include <algorithm>
#include <set>
#include <utility>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "cli/import/apache_import.h"
#include "cli/import/apache_plan.h"

namespace rwproxy::cli::apache {
namespace {

using Kind = VerdictKind;

// rwproxy's limits per route (config/translate_headers.cc).
constexpr size_t kMaxHeaderEdits = 32;  // set + add + remove, per direction
constexpr size_t kMaxLocationRewrites = 16;

// The header edits that apply to `route`: the main server's, the vhost's, its <Location>'s.
std::vector<HeaderOp> OpsFor(const PlannedRoute& route, const Effective& e) {
  std::vector<HeaderOp> ops;
  for (const ScopePlan* plan : {e.main, e.own}) {
    if (plan != nullptr) ops.insert(ops.end(), plan->headers.begin(), plan->headers.end());
  }
  for (const ScopePlan* plan : {e.main, e.own}) {
    if (plan == nullptr || route.location == nullptr) continue;
    auto it = plan->location_headers.find(route.location);
    if (it != plan->location_headers.end())
      ops.insert(ops.end(), it->second.begin(), it->second.end());
  }
  return ops;
}

std::vector<std::pair<int, Rewrites>> ReverseFor(const PlannedRoute& route, const Effective& e) {
  std::vector<std::pair<int, Rewrites>> out;
  for (const ScopePlan* plan : {e.main, e.own}) {
    if (plan != nullptr) out.insert(out.end(), plan->reverse.begin(), plan->reverse.end());
  }
  for (const ScopePlan* plan : {e.main, e.own}) {
    if (plan == nullptr || route.location == nullptr) continue;
    auto it = plan->location_reverse.find(route.location);
    if (it != plan->location_reverse.end())
      out.insert(out.end(), it->second.begin(), it->second.end());
  }
  return out;
}

template <class Message>
void CopyOps(const FoldedOps& ops, Message* out) {
  for (const auto& [name, value] : ops.set) (*out->mutable_set())[name] = value;
  for (const auto& [name, value] : ops.add) (*out->mutable_add())[name] = value;
  for (const std::string& name : ops.remove) out->add_remove(name);
}

// The route's request_headers and response_headers: Header and RequestHeader edits folded,
// ProxyAddHeaders Off, rwproxy's limit per route.
void HeaderEdits(const PlannedRoute& r, const Effective& e, config::v1::Route* out,
                 Report* report) {
  const std::vector<HeaderOp> ops = OpsFor(r, e);
  FoldedOps request = FoldHeaderOps(ops, true, report);
  if (e.Setting(&Scope::add_headers) == false) {
    for (const char* name : {"x-forwarded-for", "x-forwarded-proto"}) {
      if (!request.set.contains(name) &&
          std::find(request.remove.begin(), request.remove.end(), name) == request.remove.end()) {
        request.remove.push_back(name);
      }
    }
  }
  FoldedOps response = FoldHeaderOps(ops, false, report);
  for (auto [folded, request_side] : {std::pair{&request, true}, std::pair{&response, false}}) {
    if (folded->set.size() + folded->add.size() + folded->remove.size() <= kMaxHeaderEdits)
      continue;
    *folded = FoldedOps{};
    for (const HeaderOp& op : ops) {
      if (op.request != request_side) continue;
      report->Set(
          op.verdict, Kind::kRefused,
          absl::StrCat("more than ", kMaxHeaderEdits, " header edits on route ", out->name()));
    }
  }
  if (!request.empty()) CopyOps(request, out->mutable_request_headers());
  if (!response.empty()) CopyOps(response, out->mutable_response_headers());
  for (const HeaderOp& op : ops) report->AddRoute(op.verdict, out->name());
  for (const ScopePlan* plan : {e.main, e.own}) {
    if (plan == nullptr || e.Setting(&Scope::add_headers) != false) continue;
    for (int id : plan->scope->add_headers_verdicts) report->AddRoute(id, out->name());
  }
}

// ProxyPassReverse -> response_headers.rewrite_location (the first entry for a prefix wins).
void LocationRewrites(const PlannedRoute& r, const Effective& e, config::v1::Route* out,
                      Report* report) {
  std::set<std::string> froms;
  for (const auto& [verdict, rewrites] : ReverseFor(r, e)) {
    for (const auto& rewrite : rewrites) {
      if (froms.contains(rewrite.from())) continue;  // the first one applies, as in Apache
      if (froms.size() == kMaxLocationRewrites) {
        report->Set(verdict, Kind::kRefused,
                    absl::StrCat("more than ", kMaxLocationRewrites, " on route ", out->name()));
        break;
      }
      froms.insert(rewrite.from());
      *out->mutable_response_headers()->add_rewrite_location() = rewrite;
    }
    if (!rewrites.empty()) report->AddRoute(verdict, out->name());
  }
}

void ProxySettings(const PlannedRoute& r, const Effective& e, config::v1::Route* out,
                   Report* report) {
  out->set_cluster(r.cluster);
  if (r.path) out->mutable_rewrite()->set_path(RenderTemplate(*r.path, HasRegexCondition(r.match)));
  if (!r.prefix.empty()) out->mutable_rewrite()->set_prefix(r.prefix);
  if (!r.query.empty()) out->mutable_rewrite()->set_query(r.query);
  if (!e.Setting(&Scope::preserve_host).value_or(false) && !r.backend_host.empty()) {
    // Members on different hosts: each try names its own member, as Apache does.
    if (r.host_inexact) {
      out->mutable_rewrite()->set_host_from_endpoint(true);
    } else {
      out->mutable_rewrite()->set_host(r.backend_host);
    }
  }
  std::optional<std::string> timeout = e.Setting(&Scope::proxy_timeout);
  if (!timeout) timeout = e.Setting(&Scope::timeout);
  if (!r.timeout.empty()) timeout = r.timeout;
  if (timeout) out->set_timeout(*timeout);
  HeaderEdits(r, e, out, report);
  LocationRewrites(r, e, out, report);
}

void Notes(const Model& model, const config::v1::Config& config, Report* report) {
  bool proxied = false, percent = false;
  for (const auto& route : config.routes()) {
    proxied |= route.has_cluster();
    percent |= route.match().path_regex().find('%') != std::string::npos;
  }
  bool timeouts = false, add_headers = false;
  for (const Scope* scope : {&model.main}) {
    timeouts |= scope->timeout || scope->proxy_timeout;
    add_headers |= scope->add_headers.has_value();
  }
  for (const Scope& vhost : model.vhosts) {
    timeouts |= vhost.timeout || vhost.proxy_timeout;
    add_headers |= vhost.add_headers.has_value();
  }
  if (!model.vhosts.empty()) {
    report->AddNote(
        "a Host no <VirtualHost> names gets the first vhost's routes again (default-*), "
        "as in Apache; each named vhost ends with a 404 for its own hosts");
  }
  if (proxied && !timeouts) {
    report->AddNote("proxied routes keep rwproxy's 15s timeout; Apache's default (Timeout) is 60s");
  }
  if (proxied && !add_headers) {
    report->AddNote(
        "Apache (ProxyAddHeaders On) sends X-Forwarded-For, X-Forwarded-Host and "
        "X-Forwarded-Server; rwproxy sends X-Forwarded-For and X-Forwarded-Proto");
  }
  if (percent) {
    report->AddNote(
        "a pattern has '%': Apache matches %-decoded paths, rwproxy normalized ones "
        "(only unreserved %XX decoded)");
  }
  report->AddNote("requests no route takes get 404; Apache would serve them from DocumentRoot");
}

// `name`, or name-2, name-3 ... when a route of `config` already has it.
std::string UniqueName(const std::string& name, const config::v1::Config& config) {
  auto taken = [&](const std::string& candidate) {
    for (const auto& route : config.routes()) {
      if (route.name() == candidate) return true;
    }
    return false;
  };
  std::string out = name;
  for (int n = 2; taken(out); ++n) out = absl::StrCat(name, "-", n);
  return out;
}

// Each vhost's routes with its hosts (and a 404 for them), then the first vhost's again without
// hosts: Apache's default for a Host no vhost names.
void EmitVirtualHosts(const Model& model, const ScopePlan& main,
                      const std::vector<ScopePlan>& plans, config::v1::Config* config,
                      Report* report) {
  std::set<std::string> prefixes;
  for (size_t i = 0; i < plans.size(); ++i) {
    const Scope& vhost = model.vhosts[i];
    if (vhost.hosts.empty()) continue;  // only reachable as the default
    const Effective e{&plans[i], &main};
    std::string prefix =
        Slug(vhost.server_name.empty() ? absl::StrCat("vhost-", i + 1) : vhost.server_name);
    while (prefixes.contains(prefix)) prefix += "-2";
    prefixes.insert(prefix);
    EmitRoutes(AssembleRoutes(e), e, prefix + "-", vhost.hosts, config, report);
    PlannedRoute not_found;
    not_found.name = "not-found";
    not_found.match.set_path_prefix("/");
    not_found.status = 404;
    not_found.body = "Not Found\n";
    not_found.verdicts = {vhost.verdict};
    EmitRoutes({not_found}, e, prefix + "-", vhost.hosts, config, report);
  }
  const Effective first{&plans[0], &main};
  EmitRoutes(AssembleRoutes(first), first, "default-", {}, config, report);
}

// The verdicts only known once every route is out; then the notes.
void FinishReport(const Model& model, const std::vector<const ScopePlan*>& plans,
                  const config::v1::Config& config, Report* report) {
  for (const ScopePlan* plan : plans) {
    const Scope& scope = *plan->scope;
    for (int id : scope.add_headers_verdicts) {
      report->Set(id, Kind::kApproximated,
                  scope.add_headers == false
                      ? "Off: rwproxy removes X-Forwarded-For and X-Forwarded-Proto; Apache "
                        "passes a client's own X-Forwarded-For on"
                      : "On: rwproxy sends X-Forwarded-For and X-Forwarded-Proto, not "
                        "X-Forwarded-Host or X-Forwarded-Server");
    }
    auto no_route = [&](int id) {
      if (report->verdict(id).routes.empty() && report->verdict(id).kind != Kind::kRefused) {
        report->Set(id, Kind::kConverted, "no effect: no proxied route");
      }
    };
    for (const HeaderOp& op : plan->headers) no_route(op.verdict);
    for (const auto& [verdict, rewrites] : plan->reverse) no_route(verdict);
  }
  Notes(model, config, report);
  for (size_t id = 0; id < report->verdicts().size(); ++id) {
    const Verdict& v = report->verdict(static_cast<int>(id));
    if (v.kind == Kind::kIgnored && v.notes.empty()) {
      report->Set(static_cast<int>(id), Kind::kIgnored, "no effect");
    }
  }
}

}  // namespace

void EmitRoutes(const std::vector<PlannedRoute>& planned, const Effective& e,
                const std::string& prefix, const std::vector<std::string>& hosts,
                config::v1::Config* config, Report* report) {
  for (const PlannedRoute& r : planned) {
    const std::string name = UniqueName(prefix + r.name, *config);
    config::v1::Route& out = *config->add_routes();
    out.set_name(name);
    *out.mutable_match() = r.match;
    for (const std::string& host : hosts) out.mutable_match()->add_hosts(host);
    for (int id : r.verdicts) report->AddRoute(id, out.name());
    switch (r.action) {
      case PlannedRoute::Action::kRespond:
        out.mutable_respond()->set_status(r.status);
        out.mutable_respond()->set_body(r.body);
        break;
      case PlannedRoute::Action::kRedirect:
        out.mutable_redirect()->set_location(RenderTemplate(*r.path, HasRegexCondition(r.match)));
        out.mutable_redirect()->set_status(r.status);
        break;
      case PlannedRoute::Action::kProxy:
        ProxySettings(r, e, &out, report);
        break;
    }
  }
}

ImportResult ConvertApache(const std::vector<Node>& nodes, const ImportOptions& options) {
  ImportResult result;
  Report& report = result.report;
  Model model;
  CollectModel(nodes, options.port, &model, &report);
  ClusterSet clusters(&model, &report);
  const bool vhosts = !model.vhosts.empty();
  const ScopePlan main = PlanScope(model.main, vhosts, &clusters, &report);
  std::vector<ScopePlan> plans;
  for (const Scope& vhost : model.vhosts)
    plans.push_back(PlanScope(vhost, false, &clusters, &report));
  config::v1::Config& config = result.config;
  if (vhosts) {
    EmitVirtualHosts(model, main, plans, &config, &report);
  } else {
    const Effective e{&main, nullptr};
    EmitRoutes(AssembleRoutes(e), e, "", {}, &config, &report);
  }
  std::set<std::string> used;  // a refused directive may have named a cluster no route uses
  for (const auto& route : config.routes()) used.insert(route.cluster());
  for (const config::v1::Cluster& cluster : clusters.clusters()) {
    if (used.contains(cluster.name())) *config.add_clusters() = cluster;
  }
  std::vector<const ScopePlan*> all = {&main};
  for (const ScopePlan& plan : plans) all.push_back(&plan);
  FinishReport(model, all, config, &report);
  return result;
}

absl::StatusOr<ImportResult> ImportApache(const std::string& path, const ImportOptions& options) {
  ParseOptions parse;
  parse.server_root = options.server_root;
  auto nodes = ParseApacheConfig(path, parse);
  if (!nodes.ok()) return nodes.status();
  return ConvertApache(*nodes, options);
}

}  // namespace rwproxy::cli::apache
