#include "cli/routes_table.h"

#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "google/protobuf/struct.pb.h"
#include "google/protobuf/util/json_util.h"
#include "google/protobuf/util/message_differencer.h"
#include "gtest/gtest.h"
#include "config/config_yaml.h"

namespace rwproxy::cli {
namespace {

namespace v1 = ::rwproxy::control::v1;
using ::testing::ElementsAre;

constexpr char kRoutes[] = R"(clusters:
  - {name: app, endpoints: ["127.0.0.1:8081"]}
  - {name: canary, endpoints: ["127.0.0.1:8082"]}
routes:
  - name: docs
    match: {path_prefix: /docs/}
    redirect: {location: "https://docs.example.com$0", status: 301}
  - name: split
    match: {path_prefix: /split/, methods: [GET, POST], headers: {x-b: "2", x-a: "1"}}
    rewrite: {prefix: /}
    backends: [{cluster: app, weight: 90}, {cluster: canary, weight: 10}]
    timeout: 2s
    retry: {on: [5xx, reset], max: 2, per_try_timeout: 500ms, status_codes: [502, 503]}
  - name: api
    match: {path_regex: "^/api/(.*)$"}
    rewrite: {path: "/v2/$1", host: internal}
    cluster: app
    retry: {on: [connect-failure], backoff: {base: 10ms}, non_idempotent: true}
  - name: even
    backends: [{cluster: app}, {cluster: canary}, {cluster: app, weight: 0}]
  - name: deny
    match: {path_exact: /admin}
    respond: {status: 403}
  - name: temp
    redirect: {location: /elsewhere}
)";

v1::GetConfigResponse Response() {
  v1::GetConfigResponse response;
  std::vector<yaml::YamlError> errors;
  EXPECT_TRUE(yaml::ParseConfig(kRoutes, response.mutable_config(), nullptr, &errors));
  response.set_version(7);
  response.set_content_hash("00000000deadbeef");
  return response;
}

TEST(RoutesTableTest, OneRowPerRouteInMatchOrder) {
  const v1::GetConfigResponse response = Response();
  const auto& routes = response.config().routes();
  EXPECT_THAT(RouteCells(routes[0]),
              ElementsAre("docs", "prefix /docs/", "-", "-",
                          "redirect 301 https://docs.example.com$0", "-", "-"));
  EXPECT_THAT(RouteCells(routes[1]), ElementsAre("split", "prefix /split/", "GET,POST x-a=1 x-b=2",
                                                 "prefix=/", "split app 90%, canary 10%", "2s",
                                                 "on=5xx,reset max=2 per_try=500ms codes=502,503"));
  EXPECT_THAT(
      RouteCells(routes[2]),
      ElementsAre("api", "regex ^/api/(.*)$", "-", "path=/v2/$1 host=internal", "cluster app",
                  "15s", "on=connect-failure max=1 backoff=10ms..250ms non_idempotent"));
  // Weights default to 1; a weight of 0 gets no traffic.
  EXPECT_THAT(RouteCells(routes[3]), ElementsAre("even", "any", "-", "-",
                                                 "split app 50%, canary 50%, app 0%", "15s", "-"));
  EXPECT_THAT(RouteCells(routes[4]),
              ElementsAre("deny", "exact /admin", "-", "-", "respond 403", "-", "-"));
  EXPECT_THAT(RouteCells(routes[5]),
              ElementsAre("temp", "any", "-", "-", "redirect 302 /elsewhere", "-", "-"));
}

TEST(RoutesTableTest, ConditionsShowHostsHeaderConditionsQueryAndCase) {
  config::v1::Config config;
  std::vector<yaml::YamlError> errors;
  ASSERT_TRUE(yaml::ParseConfig(R"yaml(routes:
  - name: m
    match:
      path_prefix: /Shop/
      case_insensitive: true
      methods: [GET]
      hosts: [shop.example.com, "*.example.org"]
      headers:
        - {name: user-agent, regex: Mobile}
        - {name: x-env, exact: prod, invert: true}
        - {name: x-debug, present: true}
        - {name: x-trace, present: false}
        - {name: x-a, regex: a, invert: true}
      query: {regex: "lang=de", invert: true}
    rewrite: {path: /m, query: append}
    cluster: app
  - name: legacy
    match: {path_exact: /a, headers: {x-b: "2"}, query: {regex: "^$"}}
    cluster: app
)yaml",
                                &config, nullptr, &errors));
  EXPECT_THAT(RouteCells(config.routes(0)),
              ElementsAre("m", "prefix /Shop/ (i)",
                          "GET host=shop.example.com,*.example.org user-agent~Mobile x-env!=prod "
                          "x-debug !x-trace x-a!~a query!~lang=de",
                          "path=/m query=append", "cluster app", "15s", "-"));
  EXPECT_THAT(RouteCells(config.routes(1)), ElementsAre("legacy", "exact /a", "x-b=2 query~^$",
                                                        "-", "cluster app", "15s", "-"));
}

TEST(RoutesTableTest, ActionShowsUpgrades) {
  config::v1::Config config;
  std::vector<yaml::YamlError> errors;
  ASSERT_TRUE(yaml::ParseConfig(R"yaml(routes:
  - {name: ws, cluster: app, upgrades: [websocket]}
  - {name: ws2, backends: [{cluster: app}], upgrades: [websocket, h2c], upgrade_idle_timeout: 2h}
)yaml",
                                &config, nullptr, &errors));
  EXPECT_THAT(RouteCells(config.routes(0)),
              ElementsAre("ws", "any", "-", "-", "cluster app (upgrades: websocket)", "15s", "-"));
  EXPECT_THAT(RouteCells(config.routes(1)),
              ElementsAre("ws2", "any", "-", "-",
                          "split app 100% (upgrades: websocket,h2c, idle 2h)", "15s", "-"));
}

TEST(RoutesTableTest, AlignsColumns) {
  v1::GetConfigResponse response = Response();
  response.mutable_config()->mutable_routes()->DeleteSubrange(1, 5);
  EXPECT_EQ(RoutesTable(response.config()),
            "NAME  MATCH          METHODS/HEADERS  REWRITE  ACTION                                 "
            "  TIMEOUT  RETRY\n"
            "docs  prefix /docs/  -                -        redirect 301 https://docs.example.com$0"
            "  -        -\n");
  EXPECT_EQ(RoutesTable({}), "NAME  MATCH  METHODS/HEADERS  REWRITE  ACTION  TIMEOUT  RETRY\n");
}

TEST(RoutesTableTest, JsonHasVersionHashAndRoutes) {
  const std::string json = RoutesJson(Response());
  google::protobuf::Struct parsed;
  ASSERT_TRUE(google::protobuf::util::JsonStringToMessage(json, &parsed).ok()) << json;
  EXPECT_EQ(parsed.fields().at("version").number_value(), 7);
  EXPECT_EQ(parsed.fields().at("content_hash").string_value(), "00000000deadbeef");
  const auto& routes = parsed.fields().at("routes").list_value();
  ASSERT_EQ(routes.values_size(), 6);
  const auto& split = routes.values(1).struct_value().fields();
  EXPECT_EQ(split.at("name").string_value(), "split");
  EXPECT_EQ(split.at("backends")
                .list_value()
                .values(0)
                .struct_value()
                .fields()
                .at("weight")
                .number_value(),
            90);
  EXPECT_EQ(split.count("clusters"), 0u);
  EXPECT_THAT(json, ::testing::StartsWith("{\n  \"version\": 7,\n  \"content_hash\": "));

  v1::GetConfigResponse empty;
  EXPECT_EQ(RoutesJson(empty),
            "{\n  \"version\": 0,\n  \"content_hash\": \"\",\n  \"routes\": []\n}\n");
}

TEST(RoutesTableTest, YamlIsTheRoutesPartOfTheConfig) {
  const v1::GetConfigResponse response = Response();
  const std::string text = RoutesYaml(response);
  EXPECT_THAT(text, ::testing::StartsWith(
                        "# routes of rwproxy config version 7 (content_hash 00000000deadbeef)\n"
                        "routes:\n  - name: docs\n"));
  config::v1::Config parsed;
  std::vector<yaml::YamlError> errors;
  ASSERT_TRUE(yaml::ParseConfig(text, &parsed, nullptr, &errors)) << text;
  EXPECT_EQ(parsed.clusters_size(), 0);
  ASSERT_EQ(parsed.routes_size(), 6);
  EXPECT_TRUE(google::protobuf::util::MessageDifferencer::Equals(parsed.routes(1),
                                                                 response.config().routes(1)));

  EXPECT_EQ(RoutesYaml({}), "# routes of rwproxy config version 0 (content_hash )\nroutes: []\n");
}

}  // namespace
}  // namespace rwproxy::cli
