// Helpers for the `rwctl import apache` tests: a private temp dir for config files, and a
// one-call conversion of config text that also runs rwproxy's own checks on the result.
//
// Ownership: a TempDir owns its directory (removed with it). Thread-safety: the test's thread.
#ifndef RWPROXY_TESTS_CLI_IMPORT_TEST_UTIL_H_
#define RWPROXY_TESTS_CLI_IMPORT_TEST_UTIL_H_

#include <stdlib.h>

#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "cli/import/apache_import.h"
#include "cli/import/apache_parser.h"
#include "config/check.h"
#include "config/config_yaml.h"
#include "gtest/gtest.h"

namespace rwproxy::cli::apache {

class TempDir {
 public:
  TempDir() {
    std::string pattern = (std::filesystem::temp_directory_path() / "rwimport.XXXXXX").string();
    path_ = mkdtemp(pattern.data()) != nullptr ? pattern : "";
  }
  ~TempDir() {
    std::error_code ignored;
    std::filesystem::remove_all(path_, ignored);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;

  // Writes `text` to `name` (subdirectories created) and returns its path.
  std::string Write(const std::string& name, const std::string& text) const {
    const std::filesystem::path file = std::filesystem::path(path_) / name;
    std::filesystem::create_directories(file.parent_path());
    std::ofstream(file) << text;
    return file.string();
  }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

struct Converted {
  config::v1::Config config;
  std::string yaml;                     // ToYaml of the config
  std::string report;                   // Report::Format()
  std::vector<std::string> violations;  // config::Check on the result: must stay empty
};

// Parses `text` as "httpd.conf" and converts it.
inline Converted Convert(const std::string& text, const ImportOptions& options = {}) {
  Converted out;
  auto nodes = ParseApacheText(text, "httpd.conf", ParseOptions{});
  EXPECT_TRUE(nodes.ok()) << nodes.status();
  if (!nodes.ok()) return out;
  ImportResult result = ConvertApache(*nodes, options);
  out.config = result.config;
  out.yaml = yaml::ToYaml(result.config);
  out.report = result.report.Format();
  std::vector<FieldError> errors;
  config::Check(result.config, &errors);
  for (const FieldError& e : errors) out.violations.push_back(e.field + ": " + e.message);
  return out;
}

// The report lines of `converted` that start with "httpd.conf:".
inline std::vector<std::string> VerdictLines(const Converted& converted) {
  std::vector<std::string> out;
  for (absl::string_view line : absl::StrSplit(converted.report, '\n')) {
    if (absl::StartsWith(line, "httpd.conf:")) out.emplace_back(line);
  }
  return out;
}

}  // namespace rwproxy::cli::apache

#endif  // RWPROXY_TESTS_CLI_IMPORT_TEST_UTIL_H_
