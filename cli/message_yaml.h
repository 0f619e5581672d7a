// Any protobuf message as YAML, for `-o yaml` on responses that are not a Config (`rwctl get
// clusters -o yaml`). The same content as `-o json`: proto field names, every scalar field
// present even when zero or empty, empty lists as [] and maps as {}, unset sub-messages left
// out; map entries sorted by key. Unlike JSON, 64-bit integers are plain numbers. Strings that a
// YAML reader would take for a number, bool or null are quoted. (A Config goes through
// yaml::ToYaml, which prints set fields only so that the output applies back.)
//
// Ownership: free functions over caller-owned values. Thread-safety: reentrant; any thread.
#ifndef RWPROXY_CLI_MESSAGE_YAML_H_
#define RWPROXY_CLI_MESSAGE_YAML_H_

#include <string>

#include "google/protobuf/message.h"

namespace rwproxy::cli {

// Block-style YAML ending in a newline.
std::string MessageToYaml(const google::protobuf::Message& message);

}  // namespace rwproxy::cli

#endif  // RWPROXY_CLI_MESSAGE_YAML_H_
