#include "server/config/snapshot.h"

#include "absl/container/flat_hash_map.h"
#include "absl/strings/str_cat.h"
#include "boost/asio/io_context.hpp"
#include "boost/asio/ip/address.hpp"

namespace rwproxy {
namespace {

// Resolves "host" to an address: IP literals directly, names through the system resolver
// (blocking; this runs on the control thread, never on a worker).
bool Resolve(const EndpointSpec& spec, boost::asio::ip::tcp::endpoint* out, std::string* error) {
  boost::system::error_code ec;
  auto address = boost::asio::ip::make_address(spec.host, ec);
  if (!ec) {
    *out = {address, spec.port};
    return true;
  }
  boost::asio::io_context io;
  boost::asio::ip::tcp::resolver resolver(io);
  auto results = resolver.resolve(spec.host, std::to_string(spec.port), ec);
  if (ec || results.empty()) {
    *error = absl::StrCat("cannot resolve '", spec.host, "': ", ec ? ec.message() : "no address");
    return false;
  }
  *out = results.begin()->endpoint();
  return true;
}

}  // namespace

std::shared_ptr<const Snapshot> Compile(const ConfigSpec& spec, uint64_t version,
                                        std::vector<FieldError>* errors) {
  auto snapshot = std::make_shared<Snapshot>();
  snapshot->version = version;
  size_t errors_before = errors->size();
  absl::flat_hash_map<std::string, int> index;
  for (size_t c = 0; c < spec.clusters.size(); ++c) {
    const ClusterSpec& cs = spec.clusters[c];
    ClusterInfo info{cs.name, cs.lb_policy, cs.connect_timeout, cs.pool, {}};
    for (size_t e = 0; e < cs.endpoints.size(); ++e) {
      EndpointInfo endpoint{cs.endpoints[e].Key(), {}};
      std::string error;
      if (!Resolve(cs.endpoints[e], &endpoint.address, &error)) {
        errors->push_back({absl::StrCat("clusters[", c, "].endpoints[", e, "]"), error});
        continue;
      }
      info.endpoints.push_back(std::move(endpoint));
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
