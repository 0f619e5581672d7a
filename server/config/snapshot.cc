#include "server/config/snapshot.h"

#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/strings/str_cat.h"
#include "server/log/log.h"
#include "server/upstream/resolver.h"

namespace rwproxy {
std::string EndpointKey(const boost::asio::ip::tcp::endpoint& address) {
  const auto ip = address.address();
  return ip.is_v6() ? absl::StrCat("[", ip.to_string(), "]:", address.port())
                    : absl::StrCat(ip.to_string(), ":", address.port());
}

std::shared_ptr<const Snapshot> Compile(const ConfigSpec& spec, uint64_t version,
                                        std::vector<FieldError>* errors,
                                        absl::Duration resolve_deadline) {
  auto snapshot = std::make_shared<Snapshot>();
  snapshot->version = version;
  const size_t errors_before = errors->size();
  absl::flat_hash_map<std::string, int> index;
  for (size_t c = 0; c < spec.clusters.size(); ++c) {
    index.emplace(spec.clusters[c].name, static_cast<int>(c));
  }
  snapshot->http = spec.http;
  snapshot->routes = RouteTable::Build(spec.routes, index, errors);
  if (errors->size() != errors_before) return nullptr;
  // TLS contexts read their files here, before anything is resolved: a missing CA file is an
  // error of this config, named by its field.
  std::vector<std::shared_ptr<const UpstreamTls>> tls(spec.clusters.size());
  for (size_t c = 0; c < spec.clusters.size(); ++c) {
    if (!spec.clusters[c].tls) continue;
    std::vector<std::string> warnings;
    auto made = UpstreamTls::Create(*spec.clusters[c].tls, &warnings);
    if (!made.ok()) {
      errors->push_back({absl::StrCat("clusters[", c, "].tls"), std::string(made.status().message())});
      continue;
    }
    for (const std::string& w : warnings) {
      log::Warn("config", absl::StrCat("cluster ", spec.clusters[c].name, ": ", w));
    }
    tls[c] = *std::move(made);
  }
  if (errors->size() != errors_before) return nullptr;

  // Every endpoint of every cluster in one batch, so the deadline bounds them all together.
  std::vector<std::pair<std::string, uint16_t>> names;
  for (const ClusterSpec& cs : spec.clusters) {
    for (const EndpointSpec& endpoint : cs.endpoints) {
      names.emplace_back(endpoint.host, endpoint.port);
    }
  }
  const std::vector<Resolution> resolutions = ResolveAll(names, resolve_deadline);
  size_t next = 0;
  for (size_t c = 0; c < spec.clusters.size(); ++c) {
    const ClusterSpec& cs = spec.clusters[c];
    ClusterInfo& info = snapshot->clusters.emplace_back();
    info.tls = tls[c];
    info.name = cs.name;
    info.lb_policy = cs.lb_policy;
    info.connect_timeout = cs.connect_timeout;
    info.pool = cs.pool;
    info.configured = cs.endpoints;
    if (!cs.endpoints.empty()) info.default_host = cs.endpoints.front().Key();
    info.dns_refresh = cs.dns_refresh;
    info.health_check = cs.health_check;
    info.outlier = cs.outlier;
    info.breakers = cs.breakers;
    info.retry_budget = cs.retry_budget;
    absl::flat_hash_set<std::string> keys;
    for (const EndpointSpec& endpoint : cs.endpoints) {
      const Resolution& resolution = resolutions[next++];
      if (!resolution.ok) {
        info.unresolved.push_back({endpoint.Key(), resolution.error});
        continue;
      }
      for (const auto& address : resolution.addresses) {
        std::string key = EndpointKey(address);
        if (!keys.insert(key).second) continue;  // two names with one address: one endpoint
        info.endpoints.push_back({std::move(key), address, endpoint.Key()});
      }
    }
  }
  return snapshot;
}

std::string PoolKey(const ClusterInfo& cluster, const EndpointInfo& endpoint) {
  if (!cluster.tls) return endpoint.key;
  return absl::StrCat(endpoint.key, " ", cluster.tls->identity(), " ",
                      cluster.tls->ServerName(EndpointHost(endpoint.source)));
}

}  // namespace rwproxy
