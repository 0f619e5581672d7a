// Translation of a route's match conditions (hosts, header list, query, case_insensitive) and
// rewrite.query: config/translate_match.h. The map form of `headers:` is covered by
// translate_test.cc.
#include <string>
#include <vector>

#include "config/config_yaml.h"
#include "config/translate.h"
#include "gtest/gtest.h"

namespace rwproxy::config {
namespace {

constexpr char kApp[] = "clusters: [{name: app, endpoints: ['127.0.0.1:80']}]\n";

v1::Config Parse(const std::string& text) {
  v1::Config config;
  std::vector<yaml::YamlError> errors;
  EXPECT_TRUE(yaml::ParseConfig(text, &config, nullptr, &errors)) << text;
  for (const auto& e : errors) ADD_FAILURE() << e.field << ": " << e.message;
  return config;
}

std::string Describe(const std::vector<FieldError>& errors) {
  std::string out;
  for (const FieldError& e : errors) out += e.field + ": " + e.message + "\n";
  return out;
}

using Kind = HeaderCondition::Kind;

TEST(TranslateMatchTest, TranslatesHostsHeadersQueryAndCase) {
  std::vector<FieldError> errors;
  ConfigSpec spec = Translate(Parse(std::string(kApp) + R"yaml(routes:
  - name: m
    match:
      path_prefix: /Shop/
      case_insensitive: true
      hosts: [Shop.Example.com, "*.EXAMPLE.org", "[::1]", 10.0.0.1]
      headers:
        - {name: User-Agent, regex: "Mobile/(\\w+)"}
        - {name: X-Debug, present: false}
        - {name: x-env, exact: prod, invert: true}
        - {name: ":METHOD", regex: "^(GET|HEAD)$"}
        - {name: ":path", exact: /Shop/x}
      query: {regex: "(^|&)lang=(\\w+)", invert: true}
    rewrite: {query: append}
    cluster: app
  - name: both
    match:
      path_prefix: /
      legacy_headers: {X-B: "2", x-a: "1"}
      headers: [{name: x-c, present: true}]
    rewrite: {query: discard}
    cluster: app
  - {name: keep, match: {path_prefix: /}, rewrite: {query: keep}, cluster: app}
)yaml"),
                              &errors);
  ASSERT_TRUE(errors.empty()) << Describe(errors);
  ASSERT_EQ(spec.routes.size(), 3u);
  const MatchSpec& m = spec.routes[0].match;
  EXPECT_TRUE(m.case_insensitive);
  EXPECT_EQ(m.path, "/Shop/");  // compared ignoring case, kept as written
  EXPECT_EQ(m.hosts,
            (std::vector<std::string>{"shop.example.com", "*.example.org", "[::1]", "10.0.0.1"}));
  EXPECT_EQ(m.headers,
            (std::vector<HeaderCondition>{{"user-agent", Kind::kRegex, "Mobile/(\\w+)"},
                                          {"x-debug", Kind::kPresent, "", /*present=*/false},
                                          {"x-env", Kind::kExact, "prod", true, /*invert=*/true},
                                          {":method", Kind::kRegex, "^(GET|HEAD)$"},
                                          {":path", Kind::kExact, "/Shop/x"}}));
  ASSERT_TRUE(m.query.has_value());
  EXPECT_EQ(*m.query, (QueryCondition{"(^|&)lang=(\\w+)", true}));
  EXPECT_EQ(spec.routes[0].rewrite.query, QueryMode::kAppend);
  // The map form first (sorted by lowercase name), then the list in its order.
  EXPECT_EQ(spec.routes[1].match.headers,
            (std::vector<HeaderCondition>{{"x-a", Kind::kExact, "1"},
                                          {"x-b", Kind::kExact, "2"},
                                          {"x-c", Kind::kPresent, "", true}}));
  EXPECT_FALSE(spec.routes[1].match.case_insensitive);
  EXPECT_FALSE(spec.routes[1].match.query.has_value());
  EXPECT_EQ(spec.routes[1].rewrite.query, QueryMode::kDiscard);
  EXPECT_EQ(spec.routes[2].rewrite.query, QueryMode::kKeep);
  EXPECT_TRUE(spec.routes[2].match.hosts.empty());
}

TEST(TranslateMatchTest, QueryModeDefaultsToKeep) {
  std::vector<FieldError> errors;
  ConfigSpec spec = Translate(
      Parse(std::string(kApp) + "routes: [{name: r, match: {path_prefix: /}, cluster: app}]\n"),
      &errors);
  ASSERT_TRUE(errors.empty()) << Describe(errors);
  EXPECT_EQ(spec.routes[0].rewrite.query, QueryMode::kKeep);
}

struct ErrorRow {
  const char* name;
  std::string match;  // the route's `match:` value (flow YAML)
  const char* field;
  const char* message;  // substring
  std::string rewrite = "";
};

class TranslateMatchErrorTest : public testing::TestWithParam<ErrorRow> {};

TEST_P(TranslateMatchErrorTest, ReportsFieldAndMessage) {
  const ErrorRow& row = GetParam();
  std::string route = "{name: r, match: " + row.match + ", cluster: app" +
                      (row.rewrite.empty() ? "" : ", rewrite: " + row.rewrite) + "}";
  std::vector<FieldError> errors;
  Translate(Parse(std::string(kApp) + "routes:\n  - " + route + "\n"), &errors);
  ASSERT_EQ(errors.size(), 1u) << Describe(errors);
  EXPECT_EQ(errors[0].field, row.field);
  EXPECT_NE(errors[0].message.find(row.message), std::string::npos) << errors[0].message;
}

INSTANTIATE_TEST_SUITE_P(
    Rows, TranslateMatchErrorTest,
    testing::Values(
        // hosts
        ErrorRow{"EmptyHost", "{path_prefix: /, hosts: ['']}", "routes[0].match.hosts[0]",
                 "host must not be empty"},
        ErrorRow{"HostWithPort", "{path_prefix: /, hosts: [a.com, 'b.com:8080']}",
                 "routes[0].match.hosts[1]",
                 "invalid host 'b.com:8080': ports are not compared; write the host only "
                 "('b.com')"},
        ErrorRow{"WildcardInTheMiddle", "{path_prefix: /, hosts: ['a.*.com']}",
                 "routes[0].match.hosts[0]", "a wildcard is only allowed as a leading '*.'"},
        ErrorRow{"BareWildcard", "{path_prefix: /, hosts: ['*']}", "routes[0].match.hosts[0]",
                 "a wildcard is only allowed as a leading '*.'"},
        ErrorRow{"WildcardWithoutDomain", "{path_prefix: /, hosts: ['*.']}",
                 "routes[0].match.hosts[0]", "invalid host '*.': use letters, digits, '-' and '.'"},
        ErrorRow{"HostWithUnderscore", "{path_prefix: /, hosts: [a_b.com]}",
                 "routes[0].match.hosts[0]", "invalid host 'a_b.com'"},
        ErrorRow{"HostWithEmptyLabel", "{path_prefix: /, hosts: [a..com]}",
                 "routes[0].match.hosts[0]", "invalid host 'a..com'"},
        ErrorRow{"HostWithTrailingDot", "{path_prefix: /, hosts: [a.com.]}",
                 "routes[0].match.hosts[0]", "invalid host 'a.com.'"},
        ErrorRow{"BadIpv6Host", "{path_prefix: /, hosts: ['[zz]']}", "routes[0].match.hosts[0]",
                 "an IPv6 address is written '[::1]', no port"},
        ErrorRow{"Ipv6HostWithPort", "{path_prefix: /, hosts: ['[::1]:80']}",
                 "routes[0].match.hosts[0]", "an IPv6 address is written '[::1]', no port"},
        ErrorRow{"DuplicateHostIgnoringCase", "{path_prefix: /, hosts: [A.com, a.COM]}",
                 "routes[0].match.hosts[1]",
                 "duplicate host 'a.com' (first at routes[0].match.hosts[0])"},
        // headers (list form)
        ErrorRow{"HeaderWithoutName", "{path_prefix: /, headers: [{exact: v}]}",
                 "routes[0].match.headers[0].name", "header name is required"},
        ErrorRow{"HeaderNameNotAToken", "{path_prefix: /, headers: [{name: 'x a', exact: v}]}",
                 "routes[0].match.headers[0].name", "invalid header name 'x a'"},
        ErrorRow{"UnknownPseudoHeader",
                 "{path_prefix: /, headers: [{name: x, present: true}, {name: ':authority', "
                 "exact: a}]}",
                 "routes[0].match.headers[1].name",
                 "unknown pseudo-header ':authority' (use :method or :path)"},
        ErrorRow{"HeaderWithoutValue", "{path_prefix: /, headers: [{name: x-a, invert: true}]}",
                 "routes[0].match.headers[0]", "one of exact, regex, present is required"},
        ErrorRow{"ExactWithCrLf",
                 "{path_prefix: /, headers: [{name: x-a, exact: \"1\\r\\nx: y\"}]}",
                 "routes[0].match.headers[0].exact", "must not contain CR, LF or NUL"},
        ErrorRow{"ExactWithNul", "{path_prefix: /, headers: [{name: x-a, exact: \"1\\0\"}]}",
                 "routes[0].match.headers[0].exact", "must not contain CR, LF or NUL"},
        ErrorRow{"EmptyRegex", "{path_prefix: /, headers: [{name: x-a, regex: ''}]}",
                 "routes[0].match.headers[0].regex", "must not be empty"},
        ErrorRow{"RegexWithNewline", "{path_prefix: /, headers: [{name: x-a, regex: \"a\\nb\"}]}",
                 "routes[0].match.headers[0].regex", "must not contain CR, LF or NUL"},
        ErrorRow{"PresentWithInvert",
                 "{path_prefix: /, headers: [{name: x-a, present: true, invert: true}]}",
                 "routes[0].match.headers[0].invert",
                 "invert does not combine with present: write present: true or false"},
        ErrorRow{"PresentOnPseudoHeader",
                 "{path_prefix: /, headers: [{name: ':method', present: true}]}",
                 "routes[0].match.headers[0].present", "':method' is always present"},
        // query
        ErrorRow{"QueryWithoutRegex", "{path_prefix: /, query: {invert: true}}",
                 "routes[0].match.query.regex", "must not be empty"},
        ErrorRow{"QueryRegexWithCr", "{path_prefix: /, query: {regex: \"a\\rb\"}}",
                 "routes[0].match.query.regex", "must not contain CR, LF or NUL"},
        // rewrite.query
        ErrorRow{"UnknownQueryMode", "{path_prefix: /}", "routes[0].rewrite.query",
                 "must be keep, discard or append, got 'merge'", "{query: merge}"},
        ErrorRow{"QueryModeIsCaseSensitive", "{path_prefix: /}", "routes[0].rewrite.query",
                 "got 'Append'", "{query: Append}"}),
    [](const testing::TestParamInfo<ErrorRow>& info) { return std::string(info.param.name); });

}  // namespace
}  // namespace rwproxy::config
