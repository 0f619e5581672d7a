// libFuzzer target for the config path rwctl and the control service share: YAML text ->
// yaml::ParseConfig (proto + source map) -> config::Check (translate and compile every route, no
// name resolution) -> the violations as the control API sends them (control/violations.h).
// Invariants checked beyond "no crash": ParseConfig reports failure exactly when it lists an
// error; every located error names a line inside the text; ToYaml of a parsed config parses back
// to the same config; a rejection of any size fits gRPC's trailers and its details parse.
//
// Built with clang (tests/fuzz/run.sh) or, without libFuzzer, as a corpus replay test (CTest).
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

#include "config/check.h"
#include "config/config_yaml.h"
#include "control/violations.h"
#include "google/protobuf/util/field_comparator.h"
#include "google/protobuf/util/message_differencer.h"
#include "tests/fuzz/require.h"

namespace {


int Lines(std::string_view text) {
  int lines = 1;
  for (char c : text) lines += c == '\n';
  return lines;
}

void CheckRejection(const std::vector<rwproxy::FieldError>& errors) {
  const rwproxy::control::v1::ValidateResponse all =
      rwproxy::control::ViolationsOf(rwproxy::control::InvalidConfigError(errors));
  Require(all.violations_size() == static_cast<int>(errors.size()));
  const std::string summary = rwproxy::control::ViolationSummary(all);
  Require(summary.size() <= rwproxy::control::kMaxStatusMessageBytes);
  const std::string details = rwproxy::control::RejectionDetails(3, summary, all);
  Require(rwproxy::control::TrailerWireBytes(summary, details) <=
          rwproxy::control::kMaxTrailerBytes);
  rwproxy::control::v1::ValidateResponse sent;
  Require(rwproxy::control::ParseRejectionDetails(details, &sent));
  Require(sent.total_violations() == errors.size());
  Require(sent.truncated() || sent.violations_size() == all.violations_size());
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size > 256 * 1024) return 0;  // larger inputs add time, not coverage
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  rwproxy::config::v1::Config config;
  rwproxy::yaml::SourceMap map;
  std::vector<rwproxy::yaml::YamlError> yaml_errors;
  const bool parsed = rwproxy::yaml::ParseConfig(text, &config, &map, &yaml_errors);
  Require(parsed == yaml_errors.empty());
  const int lines = Lines(text);
  for (const auto& e : yaml_errors) {
    Require(e.pos.line >= 0 && e.pos.line <= lines);
    (void)rwproxy::yaml::FormatError("f.yaml", e.pos, e.field, e.message);
  }
  for (const auto& [field, pos] : map) Require(pos.line >= 1 && pos.line <= lines);
  if (!parsed) return 0;

  std::vector<rwproxy::FieldError> errors;
  (void)rwproxy::config::Check(config, &errors);
  for (const auto& e : errors) {
    const rwproxy::yaml::Position pos = rwproxy::yaml::Locate(map, e.field);
    Require(pos.line >= 0 && pos.line <= lines);
  }
  if (!errors.empty()) CheckRejection(errors);

  // What `rwctl get` prints applies back unchanged.
  const std::string emitted = rwproxy::yaml::ToYaml(config);
  rwproxy::config::v1::Config again;
  std::vector<rwproxy::yaml::YamlError> again_errors;
  const bool reparsed = rwproxy::yaml::ParseConfig(emitted, &again, nullptr, &again_errors);
  google::protobuf::util::DefaultFieldComparator comparator;
  comparator.set_treat_nan_as_equal(true);  // "ratio: .nan" reads back as NaN
  google::protobuf::util::MessageDifferencer differencer;
  differencer.set_field_comparator(&comparator);
  const bool same = reparsed && differencer.Compare(config, again);
  if (!same) {
    std::fprintf(stderr, "parsed:   %s\nemitted:\n%s\nreparsed: %s\n",
                 config.ShortDebugString().c_str(), emitted.c_str(),
                 again.ShortDebugString().c_str());
    for (const auto& e : again_errors) std::fprintf(stderr, "error: %s\n", e.message.c_str());
  }
  Require(reparsed);
  Require(same);
  return 0;
}
