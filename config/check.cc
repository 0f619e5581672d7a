#include "config/check.h"

#include <string>

#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "config/compiled_route.h"
#include "config/translate.h"

namespace rwproxy::config {

ConfigSpec Check(const v1::Config& config, std::vector<FieldError>* errors) {
  const size_t before = errors->size();
  ConfigSpec spec = Translate(config, errors);
  CheckRoutes(spec, errors, before);
  return spec;
}

void CheckRoutes(const ConfigSpec& spec, std::vector<FieldError>* errors, size_t reported_from) {
  absl::flat_hash_map<std::string, int> cluster_index;
  for (size_t c = 0; c < spec.clusters.size(); ++c) {
    cluster_index.emplace(spec.clusters[c].name, static_cast<int>(c));
  }
  absl::flat_hash_set<std::string> reported;
  for (size_t i = reported_from; i < errors->size(); ++i) reported.insert((*errors)[i].field);
  std::vector<FieldError> route_errors;
  for (size_t i = 0; i < spec.routes.size(); ++i) {
    CompileRoute(spec.routes[i], static_cast<int>(i), cluster_index, &route_errors);
  }
  for (auto& e : route_errors) {
    if (!reported.contains(e.field)) errors->push_back(std::move(e));
  }
}

}  // namespace rwproxy::config
