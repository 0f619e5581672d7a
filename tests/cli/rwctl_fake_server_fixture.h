// The fixture of the rwctl-against-a-fake-server tests: rwctl as a process (rwctl_runner.h)
// against an in-process fake ControlPlane (fake_control_plane.h), and a small routes.yaml.
//
// Ownership: gtest owns the fixture; it owns the fake server and the runner.
// Thread-safety: the test thread.
#ifndef RWPROXY_TESTS_CLI_RWCTL_FAKE_SERVER_FIXTURE_H_
#define RWPROXY_TESTS_CLI_RWCTL_FAKE_SERVER_FIXTURE_H_

#include <signal.h>
#include <stdio.h>

#include <fstream>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_replace.h"
#include "absl/strings/str_split.h"
#include "gmock/gmock.h"
#include "google/protobuf/struct.pb.h"
#include "google/protobuf/util/json_util.h"
#include "google/protobuf/util/message_differencer.h"
#include "gtest/gtest.h"
#include "config/config_yaml.h"
#include "tests/cli/fake_control_plane.h"
#include "tests/cli/rwctl_runner.h"
#include "tests/support/harness.h"
#include "tests/support/wait.h"

namespace rwtest {

inline constexpr char kRoutes[] = R"(clusters:
  - name: app
    endpoints: ["127.0.0.1:8081"]
routes:
  - name: api
    match: {path_regex: "^/api/(.*)$"}
    rewrite: {path: "/$1"}
    cluster: app
)";

inline rwproxy::control::v1::FieldViolation V(const std::string& field, const std::string& message) {
  rwproxy::control::v1::FieldViolation v;
  v.set_field(field);
  v.set_message(message);
  return v;
}

class RwctlFakeServerTest : public ::testing::Test {
 protected:
  RwctlResult Rwctl(std::vector<std::string> args, const std::string& stdin_text = "",
                    const std::vector<std::string>& env = {}) {
    auto result = runner_.Run(args, stdin_text, env);
    EXPECT_TRUE(result.ok()) << result.status();
    return result.ok() ? *result : RwctlResult{};
  }
  // rwctl ARGS --server <fake>
  RwctlResult Ctl(std::vector<std::string> args, const std::string& stdin_text = "") {
    args.insert(args.end(), {"--server", fake_.address()});
    return Rwctl(args, stdin_text);
  }

  FakeControlPlane fake_;
  RwctlRunner runner_;
  std::string routes_ = runner_.WriteFile("routes.yaml", kRoutes);
};

}  // namespace rwtest

#endif  // RWPROXY_TESTS_CLI_RWCTL_FAKE_SERVER_FIXTURE_H_
