// ParseClusters (harness.h): rwproxy's admin GET /clusters JSON, read with Boost.JSON.
#include <string>
#include <string_view>

#include "absl/strings/str_cat.h"
#include "boost/json.hpp"
#include "boost/json/src.hpp"  // header-only Boost.JSON: this is its one translation unit
#include "tests/support/harness.h"

namespace rwtest {

const EndpointHealth* ClusterHealth::Find(std::string_view address) const {
  for (const EndpointHealth& endpoint : endpoints) {
    if (endpoint.address == address) return &endpoint;
  }
  return nullptr;
}

absl::StatusOr<std::vector<ClusterHealth>> ParseClusters(std::string_view json) {
  boost::system::error_code ec;
  boost::json::value doc =
      boost::json::parse(boost::json::string_view(json.data(), json.size()), ec);
  if (ec) {
    return absl::DataLossError(
        absl::StrCat("/clusters is not JSON (", ec.message(), "): ", std::string(json)));
  }
  auto text = [](const boost::json::object& o, const char* key) -> std::string {
    const boost::json::value* v = o.if_contains(key);
    return v != nullptr && v->is_string() ? std::string(v->as_string()) : std::string();
  };
  auto number = [](const boost::json::value* v) -> int64_t {
    if (v == nullptr) return 0;
    if (v->is_int64()) return v->as_int64();
    if (v->is_uint64()) return static_cast<int64_t>(v->as_uint64());
    return 0;
  };
  std::vector<ClusterHealth> out;
  const boost::json::object* root = doc.if_object();
  const boost::json::value* clusters = root ? root->if_contains("clusters") : nullptr;
  if (clusters == nullptr || !clusters->is_array()) {
    return absl::DataLossError(
        absl::StrCat("/clusters has no \"clusters\" array: ", std::string(json)));
  }
  for (const boost::json::value& c : clusters->as_array()) {
    if (!c.is_object()) continue;
    const boost::json::object& co = c.as_object();
    ClusterHealth& cluster = out.emplace_back();
    cluster.name = text(co, "name");
    const boost::json::value* panic = co.if_contains("panic");
    cluster.panic = panic != nullptr && panic->is_bool() && panic->as_bool();
    // "endpoints", and "unresolved" (names with no address yet; same fields plus retry_unix_ms).
    for (const char* list : {"endpoints", "unresolved"}) {
      const boost::json::value* endpoints = co.if_contains(list);
      if (endpoints == nullptr || !endpoints->is_array()) continue;
      for (const boost::json::value& e : endpoints->as_array()) {
        if (!e.is_object()) continue;
        const boost::json::object& eo = e.as_object();
        EndpointHealth& endpoint = std::string_view(list) == "endpoints"
                                       ? cluster.endpoints.emplace_back()
                                       : cluster.unresolved.emplace_back();
        endpoint.retry_unix_ms = number(eo.if_contains("retry_unix_ms"));
        endpoint.address = text(eo, "address");
        endpoint.source = text(eo, "source");
        endpoint.health = text(eo, "health");
        endpoint.reason = text(eo, "reason");
        endpoint.since_unix_ms = number(eo.if_contains("since_unix_ms"));
        endpoint.ejections = number(eo.if_contains("ejections"));
        endpoint.cx_active = number(eo.if_contains("cx_active"));
        endpoint.cx_idle = number(eo.if_contains("cx_idle"));
        if (const boost::json::value* counters = eo.if_contains("counters");
            counters != nullptr && counters->is_object()) {
          for (const auto& [key, value] : counters->as_object()) {
            endpoint.counters[std::string(key)] = number(&value);
          }
        }
      }
    }
  }
  return out;
}

}  // namespace rwtest
