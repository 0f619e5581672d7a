#include "config/config_yaml.h"

#include <string>
#include <vector>

#include "google/protobuf/util/message_differencer.h"
#include "gtest/gtest.h"

namespace rwproxy::yaml {
namespace {

using config::v1::Config;
using google::protobuf::util::MessageDifferencer;

constexpr char kExample[] = R"(clusters:
  - name: app
    endpoints: ["127.0.0.1:8081"]
    lb_policy: round_robin
    connect_timeout: 1s
    pool: {max_connections: 1024, max_idle: 64, idle_timeout: 55s, max_requests_per_connection: 0}
routes:
  - name: api
    match: {path_regex: "^/api/(.*)$"}
    rewrite: {path: "/$1"}
    cluster: app
    timeout: 15s
  - name: moved
    match: {path_prefix: /docs/}
    redirect: {location: "https://docs.example.com$0", status: 301}
  - name: deny
    match: {path_prefix: /admin}
    respond: {status: 403, body: "forbidden\n"}
)";

std::string Describe(const std::vector<YamlError>& errors) {
  std::string out;
  for (const YamlError& e : errors) out += FormatError("t.yaml", e.pos, e.field, e.message) + "\n";
  return out;
}

TEST(ConfigYamlTest, ParsesFullExample) {
  Config config;
  SourceMap map;
  std::vector<YamlError> errors;
  ASSERT_TRUE(ParseConfig(kExample, &config, &map, &errors)) << Describe(errors);
  ASSERT_EQ(config.clusters_size(), 1);
  const auto& cluster = config.clusters(0);
  EXPECT_EQ(cluster.name(), "app");
  ASSERT_EQ(cluster.endpoints_size(), 1);
  EXPECT_EQ(cluster.endpoints(0), "127.0.0.1:8081");
  EXPECT_EQ(cluster.lb_policy(), "round_robin");
  EXPECT_EQ(cluster.connect_timeout(), "1s");
  EXPECT_EQ(cluster.pool().max_connections(), 1024u);
  EXPECT_EQ(cluster.pool().max_idle(), 64u);
  EXPECT_EQ(cluster.pool().idle_timeout(), "55s");
  EXPECT_TRUE(cluster.pool().has_max_requests_per_connection());
  EXPECT_EQ(cluster.pool().max_requests_per_connection(), 0u);
  EXPECT_FALSE(cluster.pool().has_max_pending());
  ASSERT_EQ(config.routes_size(), 3);
  EXPECT_EQ(config.routes(0).match().path_regex(), "^/api/(.*)$");
  EXPECT_EQ(config.routes(0).rewrite().path(), "/$1");
  EXPECT_EQ(config.routes(0).cluster(), "app");
  EXPECT_EQ(config.routes(0).timeout(), "15s");
  EXPECT_EQ(config.routes(1).match().path_prefix(), "/docs/");
  EXPECT_EQ(config.routes(1).redirect().location(), "https://docs.example.com$0");
  EXPECT_EQ(config.routes(1).redirect().status(), 301u);
  EXPECT_EQ(config.routes(2).respond().status(), 403u);
  EXPECT_EQ(config.routes(2).respond().body(), "forbidden\n");
}

TEST(ConfigYamlTest, RecordsPositionsOfMessagesElementsAndKeys) {
  Config config;
  SourceMap map;
  std::vector<YamlError> errors;
  ASSERT_TRUE(ParseConfig(kExample, &config, &map, &errors)) << Describe(errors);
  EXPECT_EQ(map.at(""), (Position{1, 1}));
  EXPECT_EQ(map.at("clusters"), (Position{1, 1}));
  EXPECT_EQ(map.at("clusters[0]"), (Position{2, 5}));
  EXPECT_EQ(map.at("clusters[0].name"), (Position{2, 5}));
  EXPECT_EQ(map.at("clusters[0].endpoints"), (Position{3, 5}));
  EXPECT_EQ(map.at("clusters[0].endpoints[0]"), (Position{3, 17}));
  EXPECT_EQ(map.at("clusters[0].pool.max_idle"), (Position{6, 35}));
  EXPECT_EQ(map.at("routes[2]"), (Position{16, 5}));
  EXPECT_EQ(map.at("routes[0].match.path_regex"), (Position{9, 13}));
  EXPECT_EQ(map.at("routes[2].respond.status"), (Position{18, 15}));
}

TEST(ConfigYamlTest, RecordsMapEntries) {
  Config config;
  SourceMap map;
  std::vector<YamlError> errors;
  ASSERT_TRUE(ParseConfig("routes:\n  - match:\n      headers:\n        x-canary: \"1\"\n", &config,
                          &map, &errors))
      << Describe(errors);
  EXPECT_EQ(config.routes(0).match().legacy_headers().at("x-canary"), "1");
  EXPECT_EQ(map.at("routes[0].match.headers.x-canary"), (Position{4, 9}));
}

TEST(ConfigYamlTest, EmptyDocumentsGiveEmptyConfig) {
  for (const char* text : {"", "{}", "# only a comment\n", "---\n", "\n\n"}) {
    SCOPED_TRACE(text);
    Config config;
    config.add_routes()->set_name("stale");
    std::vector<YamlError> errors;
    EXPECT_TRUE(ParseConfig(text, &config, nullptr, &errors)) << Describe(errors);
    EXPECT_TRUE(errors.empty());
    EXPECT_TRUE(MessageDifferencer::Equals(config, Config()));
  }
}

TEST(ConfigYamlTest, NullValuesAreEmpty) {
  Config config;
  std::vector<YamlError> errors;
  ASSERT_TRUE(ParseConfig("clusters:\n  - name:\n    endpoints:\n    pool:\nroutes:\n", &config,
                          nullptr, &errors))
      << Describe(errors);
  ASSERT_EQ(config.clusters_size(), 1);
  EXPECT_EQ(config.clusters(0).name(), "");
  EXPECT_TRUE(config.clusters(0).has_pool());
}

struct ErrorRow {
  const char* name;
  const char* yaml;
  const char* field;
  Position pos;
  const char* message;  // substring
};

class ConfigYamlErrorTest : public testing::TestWithParam<ErrorRow> {};

TEST_P(ConfigYamlErrorTest, ReportsFieldPositionAndMessage) {
  const ErrorRow& row = GetParam();
  Config config;
  std::vector<YamlError> errors;
  EXPECT_FALSE(ParseConfig(row.yaml, &config, nullptr, &errors));
  ASSERT_EQ(errors.size(), 1u) << Describe(errors);
  EXPECT_EQ(errors[0].field, row.field);
  EXPECT_EQ(errors[0].pos, row.pos) << Describe(errors);
  EXPECT_NE(errors[0].message.find(row.message), std::string::npos) << errors[0].message;
}

INSTANTIATE_TEST_SUITE_P(
    Rows, ConfigYamlErrorTest,
    testing::Values(
        ErrorRow{"UnknownTopLevelField",
                 "clusterz: []\n",
                 "clusterz",
                 {1, 1},
                 "unknown field 'clusterz' (did you mean 'clusters'?)"},
        ErrorRow{"UnknownNestedField",
                 "clusters:\n  - name: a\n    endpointz: []\n",
                 "clusters[0].endpointz",
                 {3, 5},
                 "unknown field 'endpointz'"},
        ErrorRow{"UnknownFieldListsChoices",
                 "routes:\n  - zzzzzzzz: 1\n",
                 "routes[0].zzzzzzzz",
                 {2, 5},
                 "expected one of: name, match, rewrite, cluster"},
        ErrorRow{"WrongTypeForUint",
                 "routes:\n  - respond: {status: abc}\n",
                 "routes[0].respond.status",
                 {2, 23},
                 "expected a non-negative integer, got 'abc'"},
        ErrorRow{"NegativeUint",
                 "routes:\n  - respond: {status: -1}\n",
                 "routes[0].respond.status",
                 {2, 23},
                 "non-negative integer, got '-1'"},
        ErrorRow{"UintOutOfRange",
                 "routes:\n  - respond: {status: 4294967296}\n",
                 "routes[0].respond.status",
                 {2, 23},
                 "out of range for uint32"},
        ErrorRow{"FractionForUint",
                 "routes:\n  - respond: {status: 3.5}\n",
                 "routes[0].respond.status",
                 {2, 23},
                 "got '3.5'"},
        ErrorRow{"QuotedNumberForUint",
                 "routes:\n  - respond: {status: \"301\"}\n",
                 "routes[0].respond.status",
                 {2, 23},
                 "non-negative integer"},
        ErrorRow{"MapForUint",
                 "routes:\n  - respond: {status: {a: 1}}\n",
                 "routes[0].respond.status",
                 {2, 23},
                 "got a map"},
        ErrorRow{"ListWhereMapBelongs",
                 "routes:\n  - match: [a]\n",
                 "routes[0].match",
                 {2, 12},
                 "expected a map, got a list"},
        ErrorRow{"MapWhereListBelongs",
                 "clusters: {name: a}\n",
                 "clusters",
                 {1, 11},
                 "expected a list, got a map"},
        ErrorRow{"ScalarWhereListBelongs",
                 "clusters: app\n",
                 "clusters",
                 {1, 11},
                 "expected a list, got 'app'"},
        ErrorRow{"ScalarListElementWhereMapBelongs",
                 "clusters: [app]\n",
                 "clusters[0]",
                 {1, 12},
                 "expected a map, got 'app'"},
        ErrorRow{"MapInStringList",
                 "clusters:\n  - endpoints: [{a: b}]\n",
                 "clusters[0].endpoints[0]",
                 {2, 17},
                 "expected a string, got a map"},
        ErrorRow{"ListForString",
                 "clusters:\n  - name: [a]\n",
                 "clusters[0].name",
                 {2, 11},
                 "expected a string, got a list"},
        ErrorRow{"ListForHeaderValue",
                 "routes:\n  - match: {headers: {x-a: [1]}}\n",
                 "routes[0].match.headers.x-a",
                 {2, 28},
                 "expected a string, got a list"},
        ErrorRow{"ActionOneofConflict",
                 "routes:\n  - cluster: app\n    respond: {status: 200}\n",
                 "routes[0].respond",
                 {3, 5},
                 "'respond' conflicts with 'cluster': set only one of cluster, redirect, respond"},
        ErrorRow{"PathOneofConflict",
                 "routes:\n  - match: {path_prefix: /a, path_exact: /b}\n",
                 "routes[0].match.path_exact",
                 {2, 30},
                 "conflicts with 'path_prefix'"},
        ErrorRow{"DuplicateKey",
                 "clusters: []\nclusters: []\n",
                 "clusters",
                 {2, 1},
                 "duplicate key 'clusters' (first at line 1)"},
        ErrorRow{"DuplicateMapKey",
                 "routes:\n  - match: {headers: {a: '1', a: '2'}}\n",
                 "routes[0].match.headers.a",
                 {2, 31},
                 "duplicate key 'a'"},
        ErrorRow{"NonScalarKey", "? [a]\n: b\n", "", {1, 3}, "keys must be plain strings"},
        ErrorRow{"TopLevelList", "- a\n", "", {1, 1}, "expected a map, got a list"},
        ErrorRow{"TopLevelScalar", "hello\n", "", {1, 1}, "expected a map, got 'hello'"},
        ErrorRow{"TwoDocuments", "{}\n---\n{}\n", "", {3, 1}, "expected one YAML document"},
        // yaml-cpp's LoadAll loops forever on these (found by tests/fuzz/config_fuzz.cc).
        ErrorRow{"StrayComma", ",}", "", {1, 1}, "expected one YAML document"},
        ErrorRow{"JunkAfterFlowRoot", "{routes: []}\n,", "", {2, 1}, "expected one YAML document"},
        ErrorRow{"UnclosedFlowMap",
                 "routes:\n  - match: {path_prefix: /a\n",
                 "",
                 {3, 1},
                 "end of map flow not found"},
        ErrorRow{"BadIndentation",
                 "clusters:\n  - name: a\n   endpoints: []\n",
                 "",
                 {3, 4},
                 "end of sequence not found"},
        // Protobuf cannot carry a string that is not UTF-8 (found by tests/fuzz/config_fuzz.cc).
        ErrorRow{"InvalidUtf8",
                 "routes:\n  - respond: {status: 200, body: \"fo\xff\xffo\"}\n",
                 "routes[0].respond.body",
                 {2, 34},
                 "not valid UTF-8 (byte 2 of the string is 0xff)"},
        ErrorRow{"InvalidUtf8Key",
                 "routes:\n  - match: {headers: {\"x\xc3\": v}}\n",
                 "routes[0].match.headers.x\xc3",
                 {2, 23},
                 "not valid UTF-8"}),
    [](const testing::TestParamInfo<ErrorRow>& info) { return std::string(info.param.name); });

TEST(ConfigYamlTest, CollectsEveryError) {
  Config config;
  std::vector<YamlError> errors;
  EXPECT_FALSE(
      ParseConfig("clusterz: []\nroutes:\n  - respond: {status: x}\n    bogus: 1\n  - match: []\n",
                  &config, nullptr, &errors));
  ASSERT_EQ(errors.size(), 4u) << Describe(errors);
  EXPECT_EQ(errors[0].field, "clusterz");
  EXPECT_EQ(errors[1].field, "routes[0].respond.status");
  EXPECT_EQ(errors[2].field, "routes[0].bogus");
  EXPECT_EQ(errors[3].field, "routes[1].match");
}

void ExpectRoundTrip(const Config& config) {
  std::string text = ToYaml(config);
  Config back;
  std::vector<YamlError> errors;
  ASSERT_TRUE(ParseConfig(text, &back, nullptr, &errors)) << Describe(errors) << text;
  std::string diff;
  MessageDifferencer differencer;
  differencer.ReportDifferencesToString(&diff);
  EXPECT_TRUE(differencer.Compare(config, back)) << diff << "\n" << text;
  EXPECT_EQ(ToYaml(back), text);  // stable
}

TEST(ConfigYamlTest, RoundTripsExample) {
  Config config;
  std::vector<YamlError> errors;
  ASSERT_TRUE(ParseConfig(kExample, &config, nullptr, &errors));
  ExpectRoundTrip(config);
}

TEST(ConfigYamlTest, RoundTripsAwkwardValuesAndPresence) {
  Config config;
  auto* cluster = config.add_clusters();
  cluster->set_name("123");
  for (
      const char* s :
      {"",       "true", "null",   "~",       "1e5",           "-1",          ".5",   " lead",
       "trail ", "a: b", "#x",     "- x",     "multi\nline\n", "tab\there",   "q\"'", "caf\xc3\xa9",
       "[x]",    "{x}",  "*alias", "&anchor", "!tag",          "%p",          "@at",  "`tick",
       "?",      ":",    "yes",    "0x10",    "0o7",           "back\\slash", "\x01",
       // Carriage returns and other control characters (found by tests/fuzz/config_fuzz.cc).
       "\r\rx\r", "a\rb",  "\x7f",   "x\x1b[0m"}) {
    cluster->add_endpoints(s);
  }
  cluster->mutable_pool()->set_max_requests_per_connection(0);  // present but zero
  cluster->mutable_pool()->set_max_pending(4294967295u);
  auto* route = config.add_routes();
  route->mutable_match()->set_path_prefix("");  // oneof member set to ""
  (*route->mutable_match()->mutable_legacy_headers())["x-b"] = "";
  (*route->mutable_match()->mutable_legacy_headers())["X-A"] = "1";
  (*route->mutable_match()->mutable_legacy_headers())["has space"] = "v";
  route->mutable_rewrite();  // present, empty
  route->set_cluster("");
  config.add_routes()->mutable_respond();
  config.add_routes();  // empty element
  ExpectRoundTrip(config);
}

// The resilience example of issue #8: `on:` is a plain key (not YAML 1.1's boolean), flow maps
// inside a block list, a double.
TEST(ConfigYamlTest, ParsesResilienceExample) {
  constexpr char kResilience[] = R"(clusters:
  - name: app
    endpoints: ["127.0.0.1:8081", "app-headless.default.svc.cluster.local:8080"]
    dns_refresh: 5s
    health_check: {path: /healthz, interval: 1s, timeout: 500ms, unhealthy_threshold: 2, healthy_threshold: 2, expected_statuses: ["200-399"], host: app.local}
    outlier_detection: {consecutive_5xx: 5, consecutive_connect_failures: 3, base_ejection_time: 10s, max_ejection_time: 300s, max_ejection_percent: 50}
    circuit_breakers: {max_requests: 1024, max_retries: 3}
    retry_budget: {ratio: 0.2, min_per_second: 10}
  - name: app-canary
    endpoints: ["127.0.0.1:8082"]
routes:
  - name: api
    match: {path_prefix: /api/}
    backends:
      - {cluster: app, weight: 90}
      - {cluster: app-canary, weight: 10}
    retry:
      on: [connect-failure, reset, gateway-error, retriable-status-codes]
      status_codes: [503]
      max: 2
      per_try_timeout: 2s
      backoff: {base: 25ms, max: 250ms}
)";
  Config config;
  SourceMap map;
  std::vector<YamlError> errors;
  ASSERT_TRUE(ParseConfig(kResilience, &config, &map, &errors)) << Describe(errors);
  ASSERT_EQ(config.clusters_size(), 2);
  const auto& app = config.clusters(0);
  EXPECT_EQ(app.dns_refresh(), "5s");
  EXPECT_EQ(app.health_check().path(), "/healthz");
  EXPECT_EQ(app.health_check().timeout(), "500ms");
  ASSERT_EQ(app.health_check().expected_statuses_size(), 1);
  EXPECT_EQ(app.health_check().expected_statuses(0), "200-399");
  EXPECT_EQ(app.health_check().host(), "app.local");
  EXPECT_EQ(app.outlier_detection().max_ejection_time(), "300s");
  EXPECT_EQ(app.outlier_detection().max_ejection_percent(), 50u);
  EXPECT_EQ(app.circuit_breakers().max_retries(), 3u);
  ASSERT_TRUE(app.retry_budget().has_ratio());
  EXPECT_DOUBLE_EQ(app.retry_budget().ratio(), 0.2);
  EXPECT_EQ(app.retry_budget().min_per_second(), 10u);
  EXPECT_FALSE(config.clusters(1).has_health_check());
  const auto& api = config.routes(0);
  ASSERT_EQ(api.backends_size(), 2);
  EXPECT_EQ(api.backends(0).cluster(), "app");
  EXPECT_EQ(api.backends(0).weight(), 90u);
  EXPECT_EQ(api.backends(1).cluster(), "app-canary");
  EXPECT_EQ(api.backends(1).weight(), 10u);
  ASSERT_EQ(api.retry().on_size(), 4);
  EXPECT_EQ(api.retry().on(0), "connect-failure");
  EXPECT_EQ(api.retry().on(3), "retriable-status-codes");
  ASSERT_EQ(api.retry().status_codes_size(), 1);
  EXPECT_EQ(api.retry().status_codes(0), 503u);
  EXPECT_EQ(api.retry().max(), 2u);
  EXPECT_EQ(api.retry().per_try_timeout(), "2s");
  EXPECT_EQ(api.retry().backoff().max(), "250ms");
  EXPECT_EQ(map.at("routes[0].retry.on"), (Position{18, 7}));
  EXPECT_EQ(map.at("routes[0].backends[1]"), (Position{16, 9}));
  ExpectRoundTrip(config);
}

// Booleans and numbers where YAML 1.1 would guess other types: `on`/`yes` stay strings in string
// fields; a quoted number is not a double; a bare 1 is.
TEST(ConfigYamlTest, ParsesRetryBudgetRatioForms) {
  Config config;
  std::vector<YamlError> errors;
  ASSERT_TRUE(
      ParseConfig("clusters: [{name: 'on', retry_budget: {ratio: 1}},"
                  " {name: yes, retry_budget: {ratio: 2e-1}}]\n"
                  "routes: [{retry: {on: ['on', off, 5xx]}}]\n",
                  &config, nullptr, &errors))
      << Describe(errors);
  EXPECT_EQ(config.clusters(0).name(), "on");
  EXPECT_DOUBLE_EQ(config.clusters(0).retry_budget().ratio(), 1.0);
  EXPECT_EQ(config.clusters(1).name(), "yes");
  EXPECT_DOUBLE_EQ(config.clusters(1).retry_budget().ratio(), 0.2);
  ASSERT_EQ(config.routes(0).retry().on_size(), 3);
  EXPECT_EQ(config.routes(0).retry().on(1), "off");
  EXPECT_EQ(config.routes(0).retry().on(2), "5xx");
  errors.clear();
  EXPECT_FALSE(
      ParseConfig("clusters: [{retry_budget: {ratio: '0.2'}}]\n", &config, nullptr, &errors));
  ASSERT_EQ(errors.size(), 1u) << Describe(errors);
  EXPECT_EQ(errors[0].field, "clusters[0].retry_budget.ratio");
}

TEST(ConfigYamlTest, ToYamlIsBlockStyleInFieldOrder) {
  Config config;
  auto* route = config.add_routes();
  route->set_timeout("15s");
  route->set_cluster("app");
  route->mutable_match()->set_path_prefix("/");
  route->mutable_match()->add_methods("GET");
  route->set_name("r");
  config.add_clusters()->add_endpoints("127.0.0.1:80");
  EXPECT_EQ(ToYaml(config),
            "clusters:\n"
            "  - endpoints:\n"
            "      - 127.0.0.1:80\n"
            "routes:\n"
            "  - name: r\n"
            "    match:\n"
            "      path_prefix: /\n"
            "      methods:\n"
            "        - GET\n"
            "    cluster: app\n"
            "    timeout: 15s\n");
  EXPECT_EQ(ToYaml(Config()), "{}\n");
}

TEST(ConfigYamlTest, LocateFallsBackToLongestPrefix) {
  Config config;
  SourceMap map;
  std::vector<YamlError> errors;
  ASSERT_TRUE(ParseConfig(kExample, &config, &map, &errors));
  EXPECT_EQ(Locate(map, "routes[0].match.path_regex"), (Position{9, 13}));
  EXPECT_EQ(Locate(map, "routes[2].cluster"), (Position{16, 5}));
  EXPECT_EQ(Locate(map, "routes[1].redirect.status"), (Position{15, 56}));
  EXPECT_EQ(Locate(map, "clusters[0].endpoints[7]"), (Position{3, 5}));
  EXPECT_EQ(Locate(map, "routes[9].name"), (Position{7, 1}));
  EXPECT_EQ(Locate(map, "nothing.here"), (Position{1, 1}));
  EXPECT_EQ(Locate(SourceMap(), "routes[0]"), (Position{0, 0}));
}

TEST(ConfigYamlTest, FormatsErrors) {
  EXPECT_EQ(FormatError("routes.yaml", {12, 7}, "routes[2].match.path_regex", "missing )"),
            "routes.yaml:12:7: routes[2].match.path_regex: missing )");
  EXPECT_EQ(FormatError("routes.yaml", {}, "routes[2]", "bad"), "routes.yaml: routes[2]: bad");
  EXPECT_EQ(FormatError("routes.yaml", {3, 1}, "", "syntax"), "routes.yaml:3:1: syntax");
  EXPECT_EQ(FormatError("", {}, "", "plain"), "plain");
}

}  // namespace
}  // namespace rwproxy::yaml
