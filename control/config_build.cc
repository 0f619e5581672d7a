#include "control/config_build.h"

#include <cstring>
#include <fstream>
#include <sstream>

#include "absl/strings/str_cat.h"
#include "config/check.h"
#include "config/translate.h"
#include "config/config_yaml.h"

namespace rwproxy::control {

std::shared_ptr<const Snapshot> BuildSnapshot(const config::v1::Config& config, uint64_t version,
                                              std::vector<FieldError>* errors) {
  const size_t errors_before = errors->size();
  ConfigSpec spec = config::Translate(config, errors);
  if (errors->size() == errors_before) return Compile(spec, version, errors);
  // Translation failed, so nothing is served; the route checks still run (no name resolution).
  config::CheckRoutes(spec, errors, errors_before);
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
