#include "cli/offline.h"

#include <algorithm>
#include <string>
#include <utility>
#include <vector>

#include "gtest/gtest.h"
#include "proto/config_yaml.h"

namespace rwproxy::cli {
namespace {

std::vector<std::pair<std::string, std::string>> Check(const char* text) {
  config::v1::Config config;
  std::vector<yaml::YamlError> errors;
  EXPECT_TRUE(yaml::ParseConfig(text, &config, nullptr, &errors));
  std::vector<std::pair<std::string, std::string>> out;
  for (const auto& v : ValidateOffline(config)) out.emplace_back(v.field(), v.message());
  return out;
}

TEST(ValidateOfflineTest, ValidConfigHasNoViolations) {
  EXPECT_TRUE(Check(R"(
clusters: [{name: app, endpoints: ["127.0.0.1:8081"]}]
routes:
  - {name: api, match: {path_regex: "^/api/(.*)$"}, rewrite: {path: "/$1"}, cluster: app}
)")
                  .empty());
}

TEST(ValidateOfflineTest, ReportsRegexSyntax) {
  auto violations = Check(R"(
clusters: [{name: app, endpoints: ["127.0.0.1:8081"]}]
routes:
  - {name: ok, match: {path_prefix: /}, cluster: app}
  - {name: api, match: {path_regex: "^/api/(.*$"}, cluster: app}
)");
  ASSERT_EQ(violations.size(), 1u);
  EXPECT_EQ(violations[0].first, "routes[1].match.path_regex");
  EXPECT_NE(violations[0].second.find("missing )"), std::string::npos) << violations[0].second;
}

TEST(ValidateOfflineTest, ReportsTranslateChecks) {
  auto violations = Check(R"(
clusters: [{name: app, endpoints: ["127.0.0.1:8081"], connect_timeout: 5}]
routes:
  - {name: api, match: {path_prefix: /}, cluster: nope}
)");
  std::vector<std::string> fields;
  for (const auto& v : violations) fields.push_back(v.first);
  EXPECT_NE(std::find(fields.begin(), fields.end(), "routes[0].cluster"), fields.end());
  EXPECT_NE(std::find(fields.begin(), fields.end(), "clusters[0].connect_timeout"), fields.end());
}

TEST(ValidateOfflineTest, ReportsResilienceChecks) {
  auto violations = Check(R"(
clusters:
  - name: app
    endpoints: ["127.0.0.1:8081"]
    health_check: {path: /healthz, expected_statuses: ["600-700"]}
routes:
  - name: api
    match: {path_prefix: /}
    backends: [{cluster: app, weight: 90}, {cluster: canary, weight: 10}]
    retry: {on: [reset], max: 0}
)");
  const std::vector<std::pair<std::string, std::string>> want = {
      {"clusters[0].health_check.expected_statuses[0]",
       "invalid status range '600-700': statuses must be 100..599"},
      {"routes[0].backends[1].cluster", "unknown cluster 'canary' (defined: app)"},
      {"routes[0].retry.max", "max must be 1..10; remove retry to disable retries"},
  };
  EXPECT_EQ(violations, want);
}

}  // namespace
}  // namespace rwproxy::cli
