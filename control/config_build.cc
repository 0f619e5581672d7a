#include "control/config_build.h"

#include <cstring>
#include <fstream>
#include <sstream>

#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/strings/str_cat.h"
#include "control/translate.h"
#include "proto/config_yaml.h"

namespace rwproxy::control {

std::shared_ptr<const Snapshot> BuildSnapshot(const config::v1::Config& config, uint64_t version,
                                              std::vector<FieldError>* errors) {
  const size_t errors_before = errors->size();
  ConfigSpec spec = Translate(config, errors);
  if (errors->size() == errors_before) return Compile(spec, version, errors);
  // Translation failed, so nothing is served; still compile the routes of the best-effort spec
  // (regexes, templates; no name resolution) so that every problem is reported at once, keeping
  // only problems at fields translation did not already report.
  absl::flat_hash_map<std::string, int> cluster_index;
  for (size_t c = 0; c < spec.clusters.size(); ++c) {
    cluster_index.emplace(spec.clusters[c].name, static_cast<int>(c));
  }
  std::vector<FieldError> route_errors;
  RouteTable::Build(spec.routes, cluster_index, &route_errors);
  absl::flat_hash_set<std::string> reported;
  for (size_t i = errors_before; i < errors->size(); ++i) reported.insert((*errors)[i].field);
  for (auto& e : route_errors) {
    if (!reported.contains(e.field)) errors->push_back(std::move(e));
  }
  return nullptr;
}

bool ReadConfigFile(const std::string& path, std::string* text,
                    std::vector<std::string>* errors) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    errors->push_back(absl::StrCat(path, ": cannot read: ", std::strerror(errno)));
    return false;
  }
  std::stringstream buffer;
  buffer << in.rdbuf();
  *text = buffer.str();
  return true;
}

bool ParseYamlText(const std::string& label, const std::string& text, config::v1::Config* config,
                   yaml::SourceMap* map, std::vector<std::string>* errors) {
  std::vector<yaml::YamlError> yaml_errors;
  if (yaml::ParseConfig(text, config, map, &yaml_errors) && yaml_errors.empty()) return true;
  for (const auto& e : yaml_errors) {
    errors->push_back(yaml::FormatError(label, e.pos, e.field, e.message));
  }
  return false;
}

std::vector<std::string> LocateErrors(const std::string& label, const yaml::SourceMap& map,
                                      const std::vector<FieldError>& field_errors) {
  std::vector<std::string> located;
  for (const auto& e : field_errors) {
    located.push_back(yaml::FormatError(label, yaml::Locate(map, e.field), e.field, e.message));
  }
  return located;
}

}  // namespace rwproxy::control
