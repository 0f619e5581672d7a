// libFuzzer target for `rwctl import apache`: config text -> the directive tree
// (cli/import/apache_parser.h, Include not read) -> ConvertApache -> config::Check.
// Invariants checked beyond "no crash": a parse error names a line; every converted config passes
// rwproxy's own checks (the importer never prints a config rwproxy would reject) and reads back
// unchanged from its YAML; every verdict names a line of the input; the summary counts them all.
//
// Built with clang (tests/fuzz/run.sh apache) or, without libFuzzer, as a corpus replay test
// (CTest: apache_import_fuzz_corpus).
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <string>
#include <string_view>
#include <vector>

#include "cli/import/apache_import.h"
#include "cli/import/apache_parser.h"
#include "config/check.h"
#include "config/config_yaml.h"
#include "google/protobuf/util/message_differencer.h"
#include "tests/fuzz/require.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size > 64 * 1024) return 0;
  const std::string text(reinterpret_cast<const char*>(data), size);
  int lines = 1;
  for (char c : text) lines += c == '\n';
  rwproxy::cli::apache::ParseOptions options;
  options.read_includes = false;  // no file system
  auto nodes = rwproxy::cli::apache::ParseApacheText(text, "fuzz.conf", options);
  if (!nodes.ok()) {
    Require(!nodes.status().message().empty());
    return 0;
  }
  rwproxy::cli::apache::ImportResult result = rwproxy::cli::apache::ConvertApache(*nodes, {});
  std::vector<rwproxy::FieldError> errors;
  (void)rwproxy::config::Check(result.config, &errors);
  for (const auto& e : errors) std::fprintf(stderr, "%s: %s\n", e.field.c_str(), e.message.c_str());
  if (!errors.empty()) std::fprintf(stderr, "%s", rwproxy::yaml::ToYaml(result.config).c_str());
  Require(errors.empty());

  const std::string emitted = rwproxy::yaml::ToYaml(result.config);
  rwproxy::config::v1::Config again;
  std::vector<rwproxy::yaml::YamlError> yaml_errors;
  Require(rwproxy::yaml::ParseConfig(emitted, &again, nullptr, &yaml_errors));
  Require(google::protobuf::util::MessageDifferencer::Equals(result.config, again));

  const auto& report = result.report;
  size_t counted = 0;
  for (auto kind :
       {rwproxy::cli::apache::VerdictKind::kConverted,
        rwproxy::cli::apache::VerdictKind::kApproximated,
        rwproxy::cli::apache::VerdictKind::kRefused, rwproxy::cli::apache::VerdictKind::kIgnored}) {
    counted += static_cast<size_t>(report.Count(kind));
  }
  Require(counted == report.verdicts().size());
  for (const auto& verdict : report.verdicts()) Require(verdict.line >= 1 && verdict.line <= lines);
  (void)report.Format();
  return 0;
}
