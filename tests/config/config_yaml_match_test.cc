// YAML for a route's match conditions: `headers:` as a map (the form before HeaderMatch, read
// into legacy_headers) or as a list of HeaderMatch, and both written back by ToYaml.
#include <string>
#include <vector>

#include "config/config_yaml.h"
#include "google/protobuf/util/message_differencer.h"
#include "gtest/gtest.h"

namespace rwproxy::yaml {
namespace {

using config::v1::Config;
using google::protobuf::util::MessageDifferencer;

std::string Describe(const std::vector<YamlError>& errors) {
  std::string out;
  for (const YamlError& e : errors) out += FormatError("t.yaml", e.pos, e.field, e.message) + "\n";
  return out;
}

void ExpectRoundTrip(const Config& config) {
  const std::string text = ToYaml(config);
  Config back;
  std::vector<YamlError> errors;
  ASSERT_TRUE(ParseConfig(text, &back, nullptr, &errors)) << Describe(errors) << text;
  std::string diff;
  MessageDifferencer differencer;
  differencer.ReportDifferencesToString(&diff);
  EXPECT_TRUE(differencer.Compare(config, back)) << diff << "\n" << text;
  EXPECT_EQ(ToYaml(back), text);
}

TEST(ConfigYamlMatchTest, HeadersMapIsTheLegacyForm) {
  Config config;
  SourceMap map;
  std::vector<YamlError> errors;
  ASSERT_TRUE(ParseConfig("routes:\n  - match:\n      headers: {x-canary: \"1\", X-B: two}\n",
                          &config, &map, &errors))
      << Describe(errors);
  const auto& match = config.routes(0).match();
  EXPECT_EQ(match.headers_size(), 0);
  ASSERT_EQ(match.legacy_headers_size(), 2);
  EXPECT_EQ(match.legacy_headers().at("x-canary"), "1");
  EXPECT_EQ(match.legacy_headers().at("X-B"), "two");
  // Positions keep the YAML key's name, as before the list form existed.
  EXPECT_EQ(map.at("routes[0].match.headers"), (Position{3, 7}));
  EXPECT_EQ(map.at("routes[0].match.headers.x-canary"), (Position{3, 17}));
  EXPECT_EQ(map.count("routes[0].match.legacy_headers"), 0u);
}

TEST(ConfigYamlMatchTest, HeadersListIsHeaderMatch) {
  Config config;
  SourceMap map;
  std::vector<YamlError> errors;
  constexpr char kYaml[] = R"yaml(routes:
  - match:
      path_prefix: /
      case_insensitive: true
      hosts: [shop.example.com, "*.shop.example.com"]
      headers:
        - {name: user-agent, regex: "Mobile/(\\w+)", invert: true}
        - {name: x-debug, present: false}
        - name: x-env
          exact: prod
      query: {regex: "lang=(\\w+)"}
    rewrite: {path: "/m/%1", query: append}
)yaml";
  ASSERT_TRUE(ParseConfig(kYaml, &config, &map, &errors)) << Describe(errors);
  const auto& match = config.routes(0).match();
  EXPECT_TRUE(match.case_insensitive());
  ASSERT_EQ(match.hosts_size(), 2);
  EXPECT_EQ(match.hosts(1), "*.shop.example.com");
  EXPECT_EQ(match.legacy_headers_size(), 0);
  ASSERT_EQ(match.headers_size(), 3);
  EXPECT_EQ(match.headers(0).name(), "user-agent");
  EXPECT_EQ(match.headers(0).regex(), "Mobile/(\\w+)");
  EXPECT_TRUE(match.headers(0).invert());
  EXPECT_EQ(match.headers(1).value_case(), config::v1::HeaderMatch::kPresent);
  EXPECT_FALSE(match.headers(1).present());
  EXPECT_EQ(match.headers(2).exact(), "prod");
  EXPECT_EQ(match.query().regex(), "lang=(\\w+)");
  EXPECT_EQ(config.routes(0).rewrite().query(), "append");
  EXPECT_EQ(map.at("routes[0].match.headers[1]"), (Position{8, 11}));
  EXPECT_EQ(map.at("routes[0].match.headers[2].exact"), (Position{10, 11}));
}

TEST(ConfigYamlMatchTest, ToYamlWritesTheMapFormAsHeaders) {
  Config config;
  auto* match = config.add_routes()->mutable_match();
  match->set_path_prefix("/");
  (*match->mutable_legacy_headers())["x-canary"] = "1";
  (*match->mutable_legacy_headers())["accept"] = "text/html";
  EXPECT_EQ(ToYaml(config),
            "routes:\n"
            "  - match:\n"
            "      path_prefix: /\n"
            "      headers:\n"
            "        accept: text/html\n"
            "        x-canary: \"1\"\n");
  ExpectRoundTrip(config);
}

TEST(ConfigYamlMatchTest, ToYamlWritesTheListForm) {
  Config config;
  auto* route = config.add_routes();
  auto* match = route->mutable_match();
  match->set_path_regex("^/shop/(.*)$");
  match->set_case_insensitive(true);
  match->add_hosts("*.example.com");
  auto* ua = match->add_headers();
  ua->set_name("user-agent");
  ua->set_regex("Mobile");
  ua->set_invert(true);
  auto* debug = match->add_headers();
  debug->set_name("x-debug");
  debug->set_present(false);  // a oneof member set to its default stays set
  match->mutable_query()->set_regex("a=(1)");
  route->mutable_rewrite()->set_query("discard");
  const std::string text = ToYaml(config);
  EXPECT_NE(text.find("      headers:\n"
                      "        - name: user-agent\n"
                      "          regex: Mobile\n"
                      "          invert: true\n"
                      "        - name: x-debug\n"
                      "          present: false\n"),
            std::string::npos)
      << text;
  ExpectRoundTrip(config);
}

TEST(ConfigYamlMatchTest, BothFormsThroughTheApiRoundTrip) {
  Config config;
  auto* match = config.add_routes()->mutable_match();
  match->set_path_prefix("/");
  (*match->mutable_legacy_headers())["x-a"] = "1";
  auto* header = match->add_headers();
  header->set_name("x-b");
  header->set_exact("2");
  const std::string text = ToYaml(config);
  EXPECT_NE(text.find("      legacy_headers:\n        x-a: \"1\"\n      headers:\n"),
            std::string::npos)
      << text;
  ExpectRoundTrip(config);
}

struct ErrorRow {
  const char* name;
  const char* yaml;
  const char* field;
  Position pos;
  const char* message;  // substring
};

class ConfigYamlMatchErrorTest : public testing::TestWithParam<ErrorRow> {};

TEST_P(ConfigYamlMatchErrorTest, ReportsFieldPositionAndMessage) {
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
    Rows, ConfigYamlMatchErrorTest,
    testing::Values(
        ErrorRow{"ScalarHeaders",
                 "routes:\n  - match: {headers: x-a}\n",
                 "routes[0].match.headers",
                 {2, 22},
                 "expected a list of conditions ({name, exact | regex | present}) or a map "
                 "(name: exact value), got 'x-a'"},
        ErrorRow{"MapFormAndLegacyHeaders",
                 "routes:\n  - match: {legacy_headers: {a: '1'}, headers: {b: '2'}}\n",
                 "routes[0].match.headers",
                 {2, 39},
                 "'headers' as a map and 'legacy_headers' are the same field: write one"},
        ErrorRow{"UnknownFieldInHeaderMatch",
                 "routes:\n  - match: {headers: [{name: a, exactly: '1'}]}\n",
                 "routes[0].match.headers[0].exactly",
                 {2, 33},
                 "did you mean 'exact'?"},
        ErrorRow{"TwoValuesInHeaderMatch",
                 "routes:\n  - match: {headers: [{name: a, exact: '1', regex: x}]}\n",
                 "routes[0].match.headers[0].regex",
                 {2, 45},
                 "'regex' conflicts with 'exact': set only one of exact, regex, present"},
        ErrorRow{"ListForHeaderMatch",
                 "routes:\n  - match: {headers: [[a]]}\n",
                 "routes[0].match.headers[0]",
                 {2, 23},
                 "expected a map, got a list"}),
    [](const testing::TestParamInfo<ErrorRow>& info) { return std::string(info.param.name); });

}  // namespace
}  // namespace rwproxy::yaml
