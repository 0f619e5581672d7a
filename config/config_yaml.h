// YAML <-> rwproxy::config::v1::Config, with line:col source maps for error messages.
//
// The converter is driven by protobuf reflection, so it follows config.proto (nested messages,
// repeated fields, map<string, string>, oneofs, proto3 `optional`, enums by name) without
// per-field code, with one exception: Match `headers:` written as a map (name: exact value, the
// form before HeaderMatch) is read into Match.legacy_headers, and ToYaml writes it back that way.
// routes.yaml uses the proto field names as keys.
//
// Field paths name a value inside a Config: "" is the root, "clusters[0].pool.max_idle" a nested
// field, "clusters[0].endpoints[2]" a list element, "routes[2].match.headers.x-canary" a map
// entry (the map key is appended after a dot).
//
// Ownership: free functions over caller-owned values. Thread-safety: all functions are
// reentrant; any thread may call them concurrently on distinct outputs.
#ifndef RWPROXY_CONFIG_CONFIG_YAML_H_
#define RWPROXY_CONFIG_CONFIG_YAML_H_

#include <string>
#include <string_view>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "proto/config.pb.h"

namespace rwproxy::yaml {

// A place in the YAML text; 1-based. {0, 0} means "unknown".
struct Position {
  int line = 0;
  int column = 0;
  friend bool operator==(const Position&, const Position&) = default;
};

// Field path -> where that field (its key, or the list element) is written in the YAML.
using SourceMap = absl::flat_hash_map<std::string, Position>;

struct YamlError {
  Position pos;
  std::string field;  // field path; "" for the root or when unknown (syntax errors)
  std::string message;
};

// Parses YAML text into *out (cleared first). Collects every problem (syntax error, unknown
// field, wrong type, value out of range, list where a map belongs, two members of one oneof)
// into *errors with its position and field path; never throws. `map` may be null. Returns true
// when no error was found. An empty document or `{}` gives an empty Config.
bool ParseConfig(std::string_view text, config::v1::Config* out, SourceMap* map,
                 std::vector<YamlError>* errors);

// Stable YAML for a Config: only set fields, in proto field order (map entries sorted by key),
// block style, strings quoted when needed. ParseConfig(ToYaml(c)) reproduces c exactly.
std::string ToYaml(const config::v1::Config& config);

// Any message as YAML (rwctl -o yaml): every field, defaults included, like proto3 JSON with
// defaults (unset sub-messages and oneof members left out); 64-bit numbers as plain numbers.
std::string MessageToYaml(const google::protobuf::Message& message);

// The best position for a field path: its own entry, else the longest prefix present in the map
// ("routes[2].cluster" -> "routes[2]"), else {0, 0}.
Position Locate(const SourceMap& map, std::string_view field);

// "routes.yaml:12:7: routes[2].match.path_regex: missing )". Parts that are unknown (line 0,
// empty field) are left out.
std::string FormatError(std::string_view file, Position pos, std::string_view field,
                        std::string_view message);

}  // namespace rwproxy::yaml

#endif  // RWPROXY_CONFIG_CONFIG_YAML_H_
