// From config text or proto to a compiled Snapshot, collecting every problem: YAML (line:col),
// translation (field path) and compilation (regexes, templates, addresses). BuildSnapshot is the
// one validation path (ConfigStore uses it for every apply); the YAML helpers let the --config
// loader and the file watcher report its errors at their line:col.
//
// Free functions; any thread except a worker (resolving names may block).
#ifndef RWPROXY_CONTROL_CONFIG_BUILD_H_
#define RWPROXY_CONTROL_CONFIG_BUILD_H_

#include <memory>
#include <string>
#include <vector>

#include "proto/config.pb.h"
#include "config/config_yaml.h"
#include "server/config/snapshot.h"

namespace rwproxy::control {

// Translates and compiles. Null with *errors filled when the config is invalid.
std::shared_ptr<const Snapshot> BuildSnapshot(const config::v1::Config& config, uint64_t version,
                                              std::vector<FieldError>* errors);

// Reads a config file whole. On failure appends "PATH: cannot read: why".
bool ReadConfigFile(const std::string& path, std::string* text, std::vector<std::string>* errors);

// Parses YAML text into *config and its source map; errors come formatted as
// "routes.yaml:12:7: routes[2].match: unknown field 'pth'", `label` naming the text.
bool ParseYamlText(const std::string& label, const std::string& text, config::v1::Config* config,
                   yaml::SourceMap* map, std::vector<std::string>* errors);

// Field-path errors (from BuildSnapshot or ConfigStore::Validate) located in the YAML they came
// from: "routes.yaml:12:7: routes[2].match.path_regex: missing ): ...".
std::vector<std::string> LocateErrors(const std::string& label, const yaml::SourceMap& map,
                                      const std::vector<FieldError>& field_errors);

}  // namespace rwproxy::control

#endif  // RWPROXY_CONTROL_CONFIG_BUILD_H_
