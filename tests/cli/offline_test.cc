#include "cli/offline.h"

#include <algorithm>
#include <string>
#include <utility>
#include <vector>

#include "gtest/gtest.h"
#include "config/config_yaml.h"

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

// The checks that used to need the server: they come from the same code (config/check.h), so the
// messages are the server's.
TEST(ValidateOfflineTest, ReportsTemplateGroupsAndRegexLimits) {
  const std::string huge = "^/a{1000}b{1000}c{1000}d{1000}e{1000}$";  // about 5,000 instructions
  const std::string text = R"(
clusters: [{name: app, endpoints: ["127.0.0.1:8081"]}]
routes:
  - {name: groups, match: {path_regex: "^/g/(.*)$"}, rewrite: {path: "/$2"}, cluster: app}
  - {name: huge, match: {path_regex: ")" + huge + R"("}, cluster: app}
  - {name: loc, match: {path_prefix: /r}, redirect: {location: "/x$1"}}
)";
  auto violations = Check(text.c_str());
  ASSERT_EQ(violations.size(), 3u);
  EXPECT_EQ(violations[0].first, "routes[0].rewrite.path");
  EXPECT_NE(violations[0].second.find("$2"), std::string::npos) << violations[0].second;
  EXPECT_EQ(violations[1].first, "routes[1].match.path_regex");
  EXPECT_NE(violations[1].second.find("regex too large"), std::string::npos) << violations[1].second;
  EXPECT_EQ(violations[2].first, "routes[2].redirect.location");
}

}  // namespace
}  // namespace rwproxy::cli
