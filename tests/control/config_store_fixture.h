// Shared by the ConfigStore tests: YAML -> Config, a tagged valid config, a temporary state
// directory, and a store over a FakeConfigTarget.
//
// Ownership: test values. Thread-safety: the test thread.
#ifndef RWPROXY_TESTS_CONTROL_CONFIG_STORE_FIXTURE_H_
#define RWPROXY_TESTS_CONTROL_CONFIG_STORE_FIXTURE_H_

#include <stdlib.h>

#include <filesystem>
#include <fstream>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "control/config_store.h"
#include "control/state_dir.h"
#include "control/state_file.h"
#include "control/violations.h"
#include "google/protobuf/util/message_differencer.h"
#include "gtest/gtest.h"
#include "config/config_yaml.h"
#include "tests/control/fake_config_target.h"

namespace rwproxy::control {

using config::v1::Config;
using google::protobuf::util::MessageDifferencer;

inline Config Parse(const std::string& text) {
  Config config;
  std::vector<yaml::YamlError> errors;
  EXPECT_TRUE(yaml::ParseConfig(text, &config, nullptr, &errors)) << text;
  return config;
}

// A valid config whose only route rewrites to /<tag>/$1.
inline Config Tagged(const std::string& tag) {
  return Parse(absl::StrCat(R"(clusters: [{name: app, endpoints: ["127.0.0.1:8080"]}]
routes:
  - name: api
    match: {path_regex: "^/api/(.*)$"}
    rewrite: {path: "/)",
                            tag, R"(/$1"}
    cluster: app
)"));
}

inline ApplyOptions Described(const std::string& description) {
  ApplyOptions options;
  options.description = description;
  return options;
}

class TempDir {
 public:
  TempDir() {
    std::string templ = (std::filesystem::temp_directory_path() / "rwstore.XXXXXX").string();
    if (mkdtemp(templ.data()) != nullptr) path_ = templ;
  }
  ~TempDir() {
    std::error_code ignored;
    std::filesystem::remove_all(path_, ignored);
  }
  const std::string& path() const { return path_; }
  std::string File(const std::string& name) const { return path_ + "/" + name; }
  // Files whose name starts with `prefix`.
  std::vector<std::string> Matching(const std::string& prefix) const {
    std::vector<std::string> out;
    for (const auto& entry : std::filesystem::directory_iterator(path_)) {
      if (entry.path().filename().string().starts_with(prefix)) out.push_back(entry.path());
    }
    return out;
  }

 private:
  std::string path_;
};

inline std::string ReadAll(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream buffer;
  buffer << in.rdbuf();
  return buffer.str();
}

inline void WriteAll(const std::string& path, const std::string& content) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << content;
}

// A store with a fake clock that advances one second per call.
struct Fixture {
  explicit Fixture(std::string state_dir = "", VersionLog::Limits limits = {})
      : store(&target, {.state_dir = std::move(state_dir),
                        .history = limits,
                        .now = [this] { return clock += absl::Seconds(1); }}) {}
  FakeConfigTarget target;
  absl::Time clock = absl::FromUnixSeconds(1700000000);
  ConfigStore store;
};

}  // namespace rwproxy::control

#endif  // RWPROXY_TESTS_CONTROL_CONFIG_STORE_FIXTURE_H_
