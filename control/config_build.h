// From config text or proto to a compiled Snapshot, collecting every problem: YAML (line:col),
// translation (field path) and compilation (regexes, templates, addresses). Shared by the
// --config file loader, the file watcher and the gRPC service, so all three validate alike.
//
// Free functions; any thread except a worker (resolving names may block).
#ifndef RWPROXY_CONTROL_CONFIG_BUILD_H_
#define RWPROXY_CONTROL_CONFIG_BUILD_H_

#include <memory>
#include <string>
#include <vector>

#include "proto/config.pb.h"
#include "server/config/snapshot.h"

namespace rwproxy::control {

// Translates and compiles. Null with *errors filled when the config is invalid.
std::shared_ptr<const Snapshot> BuildSnapshot(const config::v1::Config& config, uint64_t version,
                                              std::vector<FieldError>* errors);

// Reads and parses a YAML file into *config. Errors come formatted as
// "routes.yaml:12:7: routes[2].match.path_regex: missing )".
bool LoadYamlFile(const std::string& path, config::v1::Config* config,
                  std::vector<std::string>* errors);

// Parses and validates YAML text (as LoadSnapshotFile does for a file); `label` names it in
// errors. Returns whether the config is valid.
bool ValidateYamlText(const std::string& label, const std::string& text,
                      config::v1::Config* config, std::vector<std::string>* errors);

// LoadYamlFile + BuildSnapshot, with every error located in the file.
std::shared_ptr<const Snapshot> LoadSnapshotFile(const std::string& path, uint64_t version,
                                                 config::v1::Config* config,
                                                 std::vector<std::string>* errors);

}  // namespace rwproxy::control

#endif  // RWPROXY_CONTROL_CONFIG_BUILD_H_
