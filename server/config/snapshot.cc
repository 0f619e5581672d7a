#include "server/config/snapshot.h"

#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/strings/str_cat.h"
#include "server/upstream/resolver.h"

namespace rwproxy {
std::string EndpointKey(const boost::asio::ip::tcp::endpoint& address) {
  const auto ip = address.address();
  return ip.is_v6() ? absl::StrCat("[", ip.to_string(), "]:", address.port())
                    : absl::StrCat(ip.to_string(), ":", address.port());
}

std::shared_ptr<const Snapshot> Compile(const ConfigSpec& spec, uint64_t version,
                                        std::vector<FieldError>* errors) {
  auto snapshot = std::make_shared<Snapshot>();
  snapshot->version = version;
  size_t errors_before = errors->size();
  absl::flat_hash_map<std::string, int> index;
  for (size_t c = 0; c < spec.clusters.size(); ++c) {
    const ClusterSpec& cs = spec.clusters[c];
    ClusterInfo info;
    info.name = cs.name;
    info.lb_policy = cs.lb_policy;
    info.connect_timeout = cs.connect_timeout;
    info.pool = cs.pool;
    info.configured = cs.endpoints;
    info.dns_refresh = cs.dns_refresh;
    info.health_check = cs.health_check;
    info.outlier = cs.outlier;
    info.breakers = cs.breakers;
    info.retry_budget = cs.retry_budget;
    absl::flat_hash_set<std::string> keys;
    for (size_t e = 0; e < cs.endpoints.size(); ++e) {
      Resolution resolution = Resolve(cs.endpoints[e].host, cs.endpoints[e].port);
      if (!resolution.ok) {
        errors->push_back({absl::StrCat("clusters[", c, "].endpoints[", e, "]"), resolution.error});
        continue;
      }
      for (const auto& address : resolution.addresses) {
        std::string key = EndpointKey(address);
        if (!keys.insert(key).second) continue;  // two names with one address: one endpoint
        info.endpoints.push_back({std::move(key), address, cs.endpoints[e].Key()});
      }
    }
    index.emplace(cs.name, static_cast<int>(c));
    snapshot->clusters.push_back(std::move(info));
  }
  snapshot->http = spec.http;
  snapshot->routes = RouteTable::Build(spec.routes, index, errors);
  if (errors->size() != errors_before) return nullptr;
  return snapshot;
}

}  // namespace rwproxy
