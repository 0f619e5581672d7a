// Loading a YAML config file's one document with yaml-cpp, safely. YAML::LoadAll loops forever,
// allocating until the process is killed, on some malformed input (",}" or "{a: 1}\n,": yaml-cpp
// issue #1040, found by tests/fuzz/config_fuzz.cc). LoadFirstDocument loads the first document
// with YAML::Load and looks for the start of a second one by reading at most two documents' events
// (only when one can follow: after a flow or scalar root, or after a document marker, so a usual
// block-map config file is read once).
//
// Ownership: free functions over values. Thread-safety: reentrant; any thread.
#ifndef RWPROXY_CONFIG_YAML_LOAD_H_
#define RWPROXY_CONFIG_YAML_LOAD_H_

#include <optional>
#include <string>

#include "yaml-cpp/yaml.h"

namespace rwproxy::yaml {

// The first document of `text`; *second is where a second document starts, if there is one.
// Throws YAML::Exception (with its mark) for a syntax error, as YAML::Load does.
YAML::Node LoadFirstDocument(const std::string& text, std::optional<YAML::Mark>* second);

}  // namespace rwproxy::yaml

#endif  // RWPROXY_CONFIG_YAML_LOAD_H_
