#include "server/stats/counters.h"

#include <string_view>

#include "absl/strings/str_cat.h"
#include "re2/re2.h"
#include "server/log/log.h"

namespace rwproxy {

void ClusterCounters::CountResponse(unsigned status) {
  ++rq_total;
  if (status >= 500) ++rq_5xx;
  else if (status >= 400) ++rq_4xx;
  else if (status >= 300) ++rq_3xx;
  else if (status >= 200) ++rq_2xx;
}

#define RW_ADD_COUNTER(name) map[#name] += c.name;

void StatsSnapshot::Add(const std::string& cluster, const ClusterCounters& c) {
  CounterMap& map = clusters[cluster];
  RW_CLUSTER_COUNTERS(RW_ADD_COUNTER)
}

void StatsSnapshot::Add(const std::string& listener, const ListenerCounters& c) {
  CounterMap& map = listeners[listener];
  RW_LISTENER_COUNTERS(RW_ADD_COUNTER)
}

void StatsSnapshot::Add(const ServerCounters& c) {
  CounterMap& map = server;
  RW_SERVER_COUNTERS(RW_ADD_COUNTER)
}

#undef RW_ADD_COUNTER

namespace {
void MergeMap(const CounterMap& from, CounterMap* to) {
  for (const auto& [name, value] : from) (*to)[name] += value;
}
}  // namespace

void StatsSnapshot::Merge(const StatsSnapshot& other) {
  for (const auto& [name, map] : other.clusters) MergeMap(map, &clusters[name]);
  for (const auto& [name, map] : other.listeners) MergeMap(map, &listeners[name]);
  MergeMap(other.server, &server);
  for (const auto& [name, map] : other.route_backends) MergeMap(map, &route_backends[name]);
  for (const auto& [name, map] : other.routes) MergeMap(map, &routes[name]);
  for (const auto& [name, map] : other.endpoints) MergeMap(map, &endpoints[name]);
  config_version = std::max(config_version, other.config_version);
}

std::string StatsSnapshot::ToText() const {
  std::string out;
  for (const auto& [cluster, map] : clusters) {
    for (const auto& [name, value] : map) absl::StrAppend(&out, "cluster.", cluster, ".", name, ": ", value, "\n");
  }
  for (const auto& [listener, map] : listeners) {
    for (const auto& [name, value] : map) absl::StrAppend(&out, "listener.", listener, ".", name, ": ", value, "\n");
  }
  for (const auto& [name, value] : server) absl::StrAppend(&out, "server.", name, ": ", value, "\n");
  for (const auto& [route, map] : route_backends) {
    for (const auto& [cluster, value] : map) {
      absl::StrAppend(&out, "route.", route, ".backend.", cluster, ".rq_total: ", value, "\n");
    }
  }
  if (show_config_version) absl::StrAppend(&out, "server.config_version: ", config_version, "\n");
  return out;
}

std::string StatsSnapshot::ToPrometheus() const {
  // Group by metric name so each gets one TYPE line.
  std::map<std::string, std::string> families;
  auto type_of = [](const std::string& name) {
    return name == "upstream_cx_active" || name == "upstream_cx_idle" ||
                   name == "downstream_cx_active" || name == "circuit_breaker_open" ||
                   name == "outlier_ejections_active" || name == "endpoints_healthy" ||
                   name == "dns_unresolved"
               ? "gauge"
               : "counter";
  };
  for (const auto& [cluster, map] : clusters) {
    for (const auto& [name, value] : map) {
      absl::StrAppend(&families["rwproxy_cluster_" + name], "rwproxy_cluster_", name,
                      "{cluster=\"", cluster, "\"} ", value, "\n");
    }
  }
  for (const auto& [listener, map] : listeners) {
    for (const auto& [name, value] : map) {
      absl::StrAppend(&families["rwproxy_listener_" + name], "rwproxy_listener_", name,
                      "{listener=\"", listener, "\"} ", value, "\n");
    }
  }
  for (const auto& [name, value] : server) {
    absl::StrAppend(&families["rwproxy_server_" + name], "rwproxy_server_", name, " ", value, "\n");
  }
  for (const auto& [route, map] : route_backends) {
    for (const auto& [cluster, value] : map) {
      absl::StrAppend(&families["rwproxy_route_backend_rq_total"],
                      "rwproxy_route_backend_rq_total{route=\"", route, "\",backend=\"", cluster,
                      "\"} ", value, "\n");
    }
  }
  std::string out;
  for (const auto& [family, lines] : families) {
    std::string short_name = family.substr(family.find('_', 8) + 1);
    absl::StrAppend(&out, "# TYPE ", family, " ", type_of(short_name), "\n", lines);
  }
  if (show_config_version) {
    absl::StrAppend(&out,
                    "# TYPE rwproxy_server_config_version gauge\nrwproxy_server_config_version ",
                    config_version, "\n");
  }
  return out;
}

// ToJson and FilterStats (admin /stats?format=json and ?filter=).
namespace {

void AppendJsonKey(std::string* out, std::string_view key) {
  out->push_back('"');
  log::AppendJsonEscaped(out, key);
  out->append("\":");
}

void AppendCounterMap(std::string* out, const CounterMap& map) {
  out->push_back('{');
  bool first = true;
  for (const auto& [name, value] : map) {
    if (!first) out->push_back(',');
    first = false;
    AppendJsonKey(out, name);
    absl::StrAppend(out, value);
  }
  out->push_back('}');
}

void AppendGroups(std::string* out, std::string_view key,
                  const std::map<std::string, CounterMap>& groups) {
  out->push_back(',');
  AppendJsonKey(out, key);
  out->push_back('{');
  bool first = true;
  for (const auto& [name, map] : groups) {
    if (!first) out->push_back(',');
    first = false;
    AppendJsonKey(out, name);
    AppendCounterMap(out, map);
  }
  out->push_back('}');
}

// Copies the counters of `from` whose dotted name `kind.group.name` matches into *to (a group is
// created only when one of its counters matches).
void FilterGroup(const std::map<std::string, CounterMap>& from, const char* kind, const RE2& filter,
                 std::map<std::string, CounterMap>* to) {
  for (const auto& [group, map] : from) {
    for (const auto& [name, value] : map) {
      const std::string dotted = absl::StrCat(kind, ".", group, ".", name);
      if (RE2::PartialMatch(dotted, filter)) (*to)[group][name] = value;
    }
  }
}

}  // namespace

std::string StatsSnapshot::ToJson() const {
  std::string out = absl::StrCat("{\"config_version\":", config_version);
  AppendGroups(&out, "clusters", clusters);
  AppendGroups(&out, "listeners", listeners);
  out.append(",\"server\":");
  AppendCounterMap(&out, server);
  AppendGroups(&out, "routes", routes);
  AppendGroups(&out, "route_backends", route_backends);
  AppendGroups(&out, "endpoints", endpoints);
  out.push_back('}');
  return out;
}

StatsSnapshot FilterStats(const StatsSnapshot& stats, const RE2& filter) {
  StatsSnapshot out;
  out.config_version = stats.config_version;
  out.show_config_version =
      stats.show_config_version && RE2::PartialMatch("server.config_version", filter);
  FilterGroup(stats.clusters, "cluster", filter, &out.clusters);
  FilterGroup(stats.listeners, "listener", filter, &out.listeners);
  for (const auto& [name, value] : stats.server) {
    if (RE2::PartialMatch(absl::StrCat("server.", name), filter)) out.server[name] = value;
  }
  FilterGroup(stats.routes, "route", filter, &out.routes);
  // route.<r>.backend.<c>.rq_total: the map is route -> cluster -> count.
  for (const auto& [route, map] : stats.route_backends) {
    for (const auto& [cluster, value] : map) {
      const std::string dotted = absl::StrCat("route.", route, ".backend.", cluster, ".rq_total");
      if (RE2::PartialMatch(dotted, filter)) out.route_backends[route][cluster] = value;
    }
  }
  FilterGroup(stats.endpoints, "endpoint", filter, &out.endpoints);
  return out;
}

}  // namespace rwproxy
