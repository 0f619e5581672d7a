#include "control/explain.h"

#include <string_view>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "server/http/codec.h"
#include "server/http/path_normalize.h"

namespace rwproxy::control {

std::string LbPolicyName(LbPolicy policy) {
  switch (policy) {
    case LbPolicy::kRoundRobin:
      return "round_robin";
    case LbPolicy::kLeastRequest:
      return "least_request";
    case LbPolicy::kRandom:
      return "random";
  }
  return "unknown";
}

namespace {

std::string DescribeEndpoints(const ClusterInfo& cluster) {
  if (cluster.endpoints.empty()) return "";
  if (cluster.endpoints.size() == 1) return cluster.endpoints.front().key;
  std::vector<std::string> keys;
  for (const auto& endpoint : cluster.endpoints) keys.push_back(endpoint.key);
  return absl::StrCat(LbPolicyName(cluster.lb_policy), " over ", absl::StrJoin(keys, ", "));
}

// The request's headers as Explain received them (names compared case-insensitively).
class ExplainHeaders : public HeaderSource {
 public:
  explicit ExplainHeaders(const v1::ExplainRequest& request) : request_(request) {}
  std::optional<std::string_view> Find(std::string_view name) const override {
    for (const auto& [key, value] : request_.headers()) {
      if (EqualsIgnoreCase(key, name)) return std::string_view(value);
    }
    return std::nullopt;
  }

 private:
  const v1::ExplainRequest& request_;
};

std::string DescribeBackend(const Snapshot& snapshot, const CompiledBackend& backend) {
  if (backend.cluster_index < 0 ||
      static_cast<size_t>(backend.cluster_index) >= snapshot.clusters.size()) {
    return "";
  }
  return DescribeEndpoints(snapshot.clusters[backend.cluster_index]);
}

// One entry per backend; `cluster` and `endpoint` name the most probable one (the first on ties),
// as they did before routes had weighted splits.
void FillBackends(const Snapshot& snapshot, const CompiledRoute& route, v1::ExplainResponse* out) {
  const CompiledBackend* likeliest = nullptr;
  for (const CompiledBackend& backend : route.backends) {
    v1::ExplainBackend* b = out->add_backends();
    b->set_cluster(backend.cluster_name);
    b->set_weight(backend.weight);
    b->set_probability(route.total_weight == 0 ? 0.0
                                               : static_cast<double>(backend.weight) /
                                                     static_cast<double>(route.total_weight));
    b->set_endpoint(DescribeBackend(snapshot, backend));
    if (likeliest == nullptr || backend.weight > likeliest->weight) likeliest = &backend;
  }
  if (likeliest == nullptr) return;
  out->set_cluster(likeliest->cluster_name);
  out->set_endpoint(DescribeBackend(snapshot, *likeliest));
}

void FillAction(const Snapshot& snapshot, const CompiledRoute& route, const RouteDecision& decision,
                const HeaderSource& headers, v1::ExplainResponse* out) {
  switch (route.action) {
    case CompiledRoute::Action::kCluster: {
      out->set_action("cluster");
      out->set_rewritten_path(decision.target);
      if (route.host_rewrite.has_value()) {
        out->set_rewritten_host(*route.host_rewrite);
      } else if (route.host_from_endpoint) {
        out->set_rewritten_host("(the endpoint each try goes to)");
      } else if (auto host = headers.Find("host")) {
        out->set_rewritten_host(std::string(*host));
      }
      FillBackends(snapshot, route, out);
      break;
    }
    case CompiledRoute::Action::kRedirect:
      out->set_action("redirect");
      out->set_status(static_cast<uint32_t>(route.status));
      out->set_location(decision.target);
      break;
    case CompiledRoute::Action::kRespond:
      out->set_action("respond");
      out->set_status(static_cast<uint32_t>(route.status));
      break;
  }
}

std::string TooLong(const std::string& field, const char* what, size_t size, size_t limit) {
  return absl::StrCat(field, ": ", what, size, " bytes, limit ", limit);
}

// A header name fit for a message: cut, with control characters replaced.
std::string Printable(const std::string& name) {
  std::string out = name.size() > 64 ? name.substr(0, 61) + "..." : name;
  for (char& c : out) {
    const auto b = static_cast<unsigned char>(c);
    if (b < 0x20 || b >= 0x7f) c = '?';
  }
  return out;
}

}  // namespace

absl::Status CheckExplainRequest(const v1::ExplainRequest& request) {
  if (request.method().size() > kMaxExplainMethodBytes) {
    return absl::InvalidArgumentError(
        TooLong("method", "", request.method().size(), kMaxExplainMethodBytes));
  }
  if (request.path().size() > kMaxExplainPathBytes) {
    return absl::InvalidArgumentError(
        TooLong("path", "", request.path().size(), kMaxExplainPathBytes));
  }
  if (static_cast<size_t>(request.headers_size()) > kMaxExplainHeaders) {
    return absl::InvalidArgumentError(
        absl::StrCat("headers: ", request.headers_size(), " headers, limit ", kMaxExplainHeaders));
  }
  for (const auto& [name, value] : request.headers()) {
    if (name.size() > kMaxExplainHeaderNameBytes) {
      return absl::InvalidArgumentError(TooLong(absl::StrCat("headers.", Printable(name)),
                                                "name of ", name.size(),
                                                kMaxExplainHeaderNameBytes));
    }
    if (value.size() > kMaxExplainHeaderValueBytes) {
      return absl::InvalidArgumentError(TooLong(absl::StrCat("headers.", Printable(name)),
                                                "value of ", value.size(),
                                                kMaxExplainHeaderValueBytes));
    }
  }
  return absl::OkStatus();
}

v1::ExplainResponse Explain(const Snapshot& snapshot, const v1::ExplainRequest& request) {
  v1::ExplainResponse out;
  out.set_version(snapshot.version);
  ExplainHeaders headers(request);
  const std::string target = request.path().empty() ? "/" : request.path();
  RouteRequest route_request;
  route_request.method = request.method().empty() ? std::string_view("GET") : request.method();
  SplitTarget(target, &route_request.path, &route_request.query);
  // Routes match the normalized path, as on the data plane.
  std::string normalized;
  const char* reason = "";
  if (NormalizePath(route_request.path, snapshot.http, &normalized, &reason) ==
      NormalizeResult::kChanged) {
    route_request.path = normalized;
  }
  route_request.headers = &headers;

  std::vector<RouteTable::Check> checks;
  RouteTable::Captures captures;
  RouteDecision decision = snapshot.routes.Explain(route_request, &checks, &captures);
  for (const auto& check : checks) {
    v1::RouteCheck* c = out.add_checks();
    c->set_route(check.route);
    c->set_matched(check.matched);
    c->set_reason(check.reason);
    for (const auto& condition : check.conditions) {
      v1::ConditionCheck* cc = c->add_conditions();
      cc->set_condition(condition.condition);
      cc->set_matched(condition.matched);
    }
  }
  if (decision.route == nullptr) return out;
  out.set_matched(true);
  out.set_route(decision.route->name);
  for (const std::string& group : captures.path) out.add_path_captures(group);
  for (const std::string& group : captures.condition) out.add_condition_captures(group);
  out.set_capture_source(captures.condition_source);
  FillAction(snapshot, *decision.route, decision, headers, &out);
  return out;
}

void StatsToProto(const StatsSnapshot& stats, v1::GetStatsResponse* out) {
  out->set_version(stats.config_version);
  for (const auto& [name, counters] : stats.clusters) {
    v1::ClusterStats* c = out->add_clusters();
    c->set_name(name);
    for (const auto& [counter, value] : counters) (*c->mutable_counters())[counter] = value;
  }
  for (const auto& [name, counters] : stats.listeners) {
    v1::ListenerStats* l = out->add_listeners();
    l->set_name(name);
    for (const auto& [counter, value] : counters) (*l->mutable_counters())[counter] = value;
  }
  for (const auto& [counter, value] : stats.server) (*out->mutable_server())[counter] = value;
}

namespace {
void EndpointToProto(const EndpointStatus& endpoint, v1::EndpointStatus* e) {
  e->set_address(endpoint.address);
  e->set_source(endpoint.source);
  e->set_health(endpoint.health);
  e->set_since_unix_ms(endpoint.since_unix_ms);
  e->set_reason(endpoint.reason);
  e->set_ejections(endpoint.ejections);
  e->set_cx_active(endpoint.cx_active);
  e->set_cx_idle(endpoint.cx_idle);
  e->set_rq_pending(endpoint.rq_pending);
  e->set_retry_unix_ms(endpoint.retry_unix_ms);
  for (const auto& [name, value] : endpoint.counters) (*e->mutable_counters())[name] = value;
}
}  // namespace

void ClustersToProto(const std::vector<ClusterStatus>& clusters, v1::GetClustersResponse* out) {
  for (const ClusterStatus& cluster : clusters) {
    v1::ClusterStatus* c = out->add_clusters();
    c->set_name(cluster.name);
    c->set_panic(cluster.panic);
    for (const EndpointStatus& endpoint : cluster.endpoints) {
      EndpointToProto(endpoint, c->add_endpoints());
    }
    for (const EndpointStatus& name : cluster.unresolved) {
      EndpointToProto(name, c->add_unresolved());
    }
  }
}

}  // namespace rwproxy::control
