#include "config/translate.h"

#include <string>
#include <variant>
#include <vector>

#include "gtest/gtest.h"
#include "config/config_yaml.h"

namespace rwproxy::config {
namespace {

using config::v1::Config;

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

// One cluster named "app", for rows about routes.
constexpr char kApp[] = "clusters: [{name: app, endpoints: ['127.0.0.1:80']}]\n";

Config Parse(const std::string& text) {
  Config config;
  std::vector<yaml::YamlError> errors;
  bool ok = yaml::ParseConfig(text, &config, nullptr, &errors);
  EXPECT_TRUE(ok) << text;
  for (const auto& e : errors) ADD_FAILURE() << e.field << ": " << e.message;
  return config;
}

std::string Describe(const std::vector<FieldError>& errors) {
  std::string out;
  for (const FieldError& e : errors) out += e.field + ": " + e.message + "\n";
  return out;
}

TEST(TranslateTest, TranslatesExample) {
  std::vector<FieldError> errors;
  ConfigSpec spec = Translate(Parse(kExample), &errors);
  ASSERT_TRUE(errors.empty()) << Describe(errors);
  ASSERT_EQ(spec.clusters.size(), 1u);
  const ClusterSpec& cluster = spec.clusters[0];
  EXPECT_EQ(cluster.name, "app");
  ASSERT_EQ(cluster.endpoints.size(), 1u);
  EXPECT_EQ(cluster.endpoints[0].host, "127.0.0.1");
  EXPECT_EQ(cluster.endpoints[0].port, 8081);
  EXPECT_EQ(cluster.lb_policy, LbPolicy::kRoundRobin);
  EXPECT_EQ(cluster.connect_timeout, absl::Seconds(1));
  EXPECT_EQ(cluster.pool.max_connections, 1024u);
  EXPECT_EQ(cluster.pool.max_idle, 64u);
  EXPECT_EQ(cluster.pool.idle_timeout, absl::Seconds(55));
  EXPECT_EQ(cluster.pool.max_requests_per_connection, 0u);
  EXPECT_EQ(cluster.pool.max_pending, 1024u);
  ASSERT_EQ(spec.routes.size(), 3u);
  const RouteSpec& api = spec.routes[0];
  EXPECT_EQ(api.name, "api");
  EXPECT_EQ(api.match.kind, MatchSpec::Kind::kRegex);
  EXPECT_EQ(api.match.path, "^/api/(.*)$");
  EXPECT_EQ(api.rewrite.path, "/$1");
  EXPECT_FALSE(api.rewrite.prefix.has_value());
  EXPECT_FALSE(api.rewrite.host.has_value());
  ASSERT_TRUE(std::holds_alternative<ClusterAction>(api.action));
  ASSERT_EQ(std::get<ClusterAction>(api.action).backends.size(), 1u);
  EXPECT_EQ(std::get<ClusterAction>(api.action).backends[0].cluster, "app");
  EXPECT_EQ(api.timeout, absl::Seconds(15));
  const RouteSpec& moved = spec.routes[1];
  EXPECT_EQ(moved.match.kind, MatchSpec::Kind::kPrefix);
  EXPECT_EQ(moved.match.path, "/docs/");
  ASSERT_TRUE(std::holds_alternative<RedirectSpec>(moved.action));
  EXPECT_EQ(std::get<RedirectSpec>(moved.action).location, "https://docs.example.com$0");
  EXPECT_EQ(std::get<RedirectSpec>(moved.action).status, 301);
  const RouteSpec& deny = spec.routes[2];
  ASSERT_TRUE(std::holds_alternative<RespondSpec>(deny.action));
  EXPECT_EQ(std::get<RespondSpec>(deny.action).status, 403);
  EXPECT_EQ(std::get<RespondSpec>(deny.action).body, "forbidden\n");
}

TEST(TranslateTest, AppliesDefaults) {
  std::vector<FieldError> errors;
  ConfigSpec spec = Translate(Parse(std::string(kApp) + R"(routes:
  - {name: a, match: {path_exact: /a}, cluster: app}
  - {name: b, match: {path_prefix: /b}, redirect: {location: /x}}
  - {name: c, match: {path_prefix: /c}, respond: {}}
)"),
                              &errors);
  ASSERT_TRUE(errors.empty()) << Describe(errors);
  const ClusterSpec& cluster = spec.clusters[0];
  EXPECT_EQ(cluster.lb_policy, LbPolicy::kRoundRobin);
  EXPECT_EQ(cluster.connect_timeout, absl::Seconds(1));
  EXPECT_EQ(cluster.pool.max_connections, 1024u);
  EXPECT_EQ(cluster.pool.max_idle, 64u);
  EXPECT_EQ(cluster.pool.idle_timeout, absl::Seconds(55));
  EXPECT_EQ(cluster.pool.max_requests_per_connection, 0u);
  EXPECT_EQ(cluster.pool.max_pending, 1024u);
  EXPECT_EQ(spec.routes[0].match.kind, MatchSpec::Kind::kExact);
  EXPECT_EQ(spec.routes[0].timeout, absl::Seconds(15));
  EXPECT_EQ(std::get<RedirectSpec>(spec.routes[1].action).status, 302);
  EXPECT_EQ(std::get<RespondSpec>(spec.routes[2].action).status, 200);
}

TEST(TranslateTest, AcceptsValidVariants) {
  std::vector<FieldError> errors;
  ConfigSpec spec = Translate(Parse(R"(clusters:
  - name: web.v2_a-b
    endpoints: ["[::1]:80", "backend.local:65535", "10.0.0.1:1"]
    lb_policy: least_request
    connect_timeout: 250ms
    pool: {max_connections: 1, max_idle: 0, max_pending: 0, idle_timeout: 2m}
  - {name: r, endpoints: ["a:1"], lb_policy: random}
routes:
  - name: p
    match:
      path_prefix: /api/
      methods: [GET, POST, M-SEARCH]
      headers: {X-Canary: "1", accept: "text/html"}
    rewrite: {prefix: /, host: "internal.example:8080"}
    cluster: web.v2_a-b
  - {name: h6, match: {path_prefix: /}, rewrite: {host: "[::1]"}, cluster: r}
  - {name: s, match: {path_prefix: /}, redirect: {location: /y, status: 308}}
  - {name: t, match: {path_prefix: /}, respond: {status: 599}}
)"),
                              &errors);
  ASSERT_TRUE(errors.empty()) << Describe(errors);
  const ClusterSpec& web = spec.clusters[0];
  EXPECT_EQ(web.endpoints[0].host, "::1");
  EXPECT_EQ(web.endpoints[0].port, 80);
  EXPECT_EQ(web.endpoints[1].host, "backend.local");
  EXPECT_EQ(web.endpoints[1].port, 65535);
  EXPECT_EQ(web.lb_policy, LbPolicy::kLeastRequest);
  EXPECT_EQ(web.connect_timeout, absl::Milliseconds(250));
  EXPECT_EQ(web.pool.max_connections, 1u);
  EXPECT_EQ(web.pool.max_idle, 0u);
  EXPECT_EQ(web.pool.max_pending, 0u);
  EXPECT_EQ(web.pool.idle_timeout, absl::Minutes(2));
  EXPECT_EQ(spec.clusters[1].lb_policy, LbPolicy::kRandom);
  const RouteSpec& p = spec.routes[0];
  EXPECT_EQ(p.match.methods, (std::vector<std::string>{"GET", "POST", "M-SEARCH"}));
  // The map form: exact conditions, names lowercased and sorted.
  using Kind = HeaderCondition::Kind;
  EXPECT_EQ(p.match.headers, (std::vector<HeaderCondition>{{"accept", Kind::kExact, "text/html"},
                                                           {"x-canary", Kind::kExact, "1"}}));
  EXPECT_EQ(p.rewrite.prefix, "/");
  EXPECT_EQ(p.rewrite.host, "internal.example:8080");
  EXPECT_EQ(spec.routes[1].rewrite.host, "[::1]");
  EXPECT_EQ(std::get<RedirectSpec>(spec.routes[2].action).status, 308);
  EXPECT_EQ(std::get<RespondSpec>(spec.routes[3].action).status, 599);
}

TEST(TranslateTest, TranslatesHttpOptions) {
  std::vector<FieldError> errors;
  ConfigSpec spec = Translate(
      Parse("http: {normalize_path: false, merge_slashes: true, path_with_escaped_slashes: reject}\n"),
      &errors);
  ASSERT_TRUE(errors.empty()) << Describe(errors);
  EXPECT_FALSE(spec.http.normalize_path);
  EXPECT_TRUE(spec.http.merge_slashes);
  EXPECT_EQ(spec.http.escaped_slashes, EscapedSlashes::kReject);
  ConfigSpec defaults = Translate(Parse("routes: []\n"), &errors);
  EXPECT_TRUE(defaults.http.normalize_path);
}

TEST(TranslateTest, AcceptsEmptyConfig) {
  std::vector<FieldError> errors;
  ConfigSpec spec = Translate(Config(), &errors);
  EXPECT_TRUE(errors.empty());
  EXPECT_TRUE(spec.clusters.empty());
  EXPECT_TRUE(spec.routes.empty());
}

TEST(TranslateTest, ReportsEveryError) {
  std::vector<FieldError> errors;
  Translate(Parse(R"(clusters:
  - {name: "", endpoints: []}
routes:
  - {name: r, match: {path_prefix: x}, cluster: nope}
  - {name: r, match: {path_prefix: /}, redirect: {location: /, status: 200}}
)"),
            &errors);
  ASSERT_EQ(errors.size(), 6u) << Describe(errors);
  EXPECT_EQ(errors[0].field, "clusters[0].name");
  EXPECT_EQ(errors[1].field, "clusters[0].endpoints");
  EXPECT_EQ(errors[2].field, "routes[0].match.path_prefix");
  EXPECT_EQ(errors[3].field, "routes[0].cluster");
  EXPECT_EQ(errors[4].field, "routes[1].redirect.status");
  EXPECT_EQ(errors[5].field, "routes[1].name");
}

struct ErrorRow {
  const char* name;
  std::string yaml;
  const char* field;
  const char* message;  // substring
};

ErrorRow Cluster(const char* name, const std::string& cluster, const char* field,
                 const char* message) {
  return {name, "clusters:\n  - " + cluster + "\n", field, message};
}

ErrorRow Route(const char* name, const std::string& route, const char* field, const char* message) {
  return {name, std::string(kApp) + "routes:\n  - " + route + "\n", field, message};
}

class TranslateErrorTest : public testing::TestWithParam<ErrorRow> {};

TEST_P(TranslateErrorTest, ReportsFieldAndMessage) {
  const ErrorRow& row = GetParam();
  std::vector<FieldError> errors;
  Translate(Parse(row.yaml), &errors);
  ASSERT_EQ(errors.size(), 1u) << Describe(errors);
  EXPECT_EQ(errors[0].field, row.field);
  EXPECT_NE(errors[0].message.find(row.message), std::string::npos) << errors[0].message;
}

INSTANTIATE_TEST_SUITE_P(
    Rows, TranslateErrorTest,
    testing::Values(
        // Clusters.
        Cluster("RejectsEmptyClusterName", "{endpoints: ['a:1']}", "clusters[0].name",
                "name is required"),
        Cluster("RejectsBadClusterName", "{name: 'a b', endpoints: ['a:1']}", "clusters[0].name",
                "invalid name 'a b'"),
        ErrorRow{"RejectsDuplicateClusterName",
                 "clusters: [{name: app, endpoints: ['a:1']}, {name: app, endpoints: ['a:1']}]",
                 "clusters[1].name", "duplicate cluster name 'app' (first at clusters[0])"},
        Cluster("RejectsNoEndpoints", "{name: a}", "clusters[0].endpoints",
                "at least one endpoint is required"),
        Cluster("RejectsEndpointWithoutPort", "{name: a, endpoints: ['127.0.0.1']}",
                "clusters[0].endpoints[0]", "missing port"),
        Cluster("RejectsPortZero", "{name: a, endpoints: ['a:0']}", "clusters[0].endpoints[0]",
                "port must be 1..65535"),
        Cluster("RejectsPortTooBig", "{name: a, endpoints: ['a:1', 'a:65536']}",
                "clusters[0].endpoints[1]", "port must be 1..65535, got '65536'"),
        Cluster("RejectsNonNumericPort", "{name: a, endpoints: ['a:http']}",
                "clusters[0].endpoints[0]", "port must be 1..65535"),
        Cluster("RejectsUnbracketedIpv6", "{name: a, endpoints: ['::1:80']}",
                "clusters[0].endpoints[0]", "needs brackets"),
        Cluster("RejectsBadIpv6", "{name: a, endpoints: ['[zz]:80']}", "clusters[0].endpoints[0]",
                "not an IPv6 address"),
        Cluster("RejectsEmptyHost", "{name: a, endpoints: [':80']}", "clusters[0].endpoints[0]",
                "missing host"),
        Cluster("RejectsBadHostChars", "{name: a, endpoints: ['a/b:80']}",
                "clusters[0].endpoints[0]", "invalid host 'a/b'"),
        Cluster("RejectsDuplicateEndpoint", "{name: a, endpoints: ['a:1', 'b:2', 'A:1']}",
                "clusters[0].endpoints[2]",
                "duplicate endpoint 'A:1' (first at clusters[0].endpoints[0])"),
        Cluster("RejectsUnknownLbPolicy", "{name: a, endpoints: ['a:1'], lb_policy: fastest}",
                "clusters[0].lb_policy", "unknown lb_policy 'fastest'"),
        Cluster("RejectsDurationWithoutUnit", "{name: a, endpoints: ['a:1'], connect_timeout: '5'}",
                "clusters[0].connect_timeout", "needs a unit"),
        Cluster("RejectsZeroDuration", "{name: a, endpoints: ['a:1'], connect_timeout: 0s}",
                "clusters[0].connect_timeout", "must be > 0"),
        Cluster("RejectsNegativeDuration", "{name: a, endpoints: ['a:1'], connect_timeout: -1s}",
                "clusters[0].connect_timeout", "must be > 0"),
        Cluster("RejectsGarbageDuration", "{name: a, endpoints: ['a:1'], connect_timeout: soon}",
                "clusters[0].connect_timeout", "invalid duration 'soon'"),
        Cluster("RejectsInfiniteDuration", "{name: a, endpoints: ['a:1'], connect_timeout: inf}",
                "clusters[0].connect_timeout", "must be finite"),
        Cluster("RejectsZeroMaxConnections",
                "{name: a, endpoints: ['a:1'], pool: {max_connections: 0}}",
                "clusters[0].pool.max_connections", "must be >= 1"),
        Cluster("RejectsBadIdleTimeout", "{name: a, endpoints: ['a:1'], pool: {idle_timeout: 1x}}",
                "clusters[0].pool.idle_timeout", "invalid duration '1x'"),
        // Routes.
        Route("RejectsEmptyRouteName", "{match: {path_prefix: /}, cluster: app}", "routes[0].name",
              "name is required"),
        Route("RejectsBadRouteName", "{name: a/b, match: {path_prefix: /}, cluster: app}",
              "routes[0].name", "invalid name 'a/b'"),
        ErrorRow{"RejectsDuplicateRouteName",
                 std::string(kApp) +
                     "routes:\n  - {name: r, match: {path_prefix: /}, cluster: app}\n"
                     "  - {name: r, match: {path_prefix: /}, cluster: app}\n",
                 "routes[1].name", "duplicate route name 'r' (first at routes[0])"},
        Route("RejectsMissingMatch", "{name: r, cluster: app}", "routes[0].match",
              "one of path_prefix, path_exact, path_regex is required"),
        Route("RejectsMatchWithoutPath", "{name: r, match: {methods: [GET]}, cluster: app}",
              "routes[0].match", "one of path_prefix, path_exact, path_regex is required"),
        Route("RejectsPrefixWithoutSlash", "{name: r, match: {path_prefix: api}, cluster: app}",
              "routes[0].match.path_prefix", "must start with '/'"),
        Route("RejectsEmptyPrefix", "{name: r, match: {path_prefix: ''}, cluster: app}",
              "routes[0].match.path_prefix", "must start with '/'"),
        Route("RejectsExactWithoutSlash", "{name: r, match: {path_exact: a}, cluster: app}",
              "routes[0].match.path_exact", "must start with '/'"),
        Route("RejectsPathWithSpace", "{name: r, match: {path_exact: '/a b'}, cluster: app}",
              "routes[0].match.path_exact", "spaces"),
        Route("RejectsEmptyRegex", "{name: r, match: {path_regex: ''}, cluster: app}",
              "routes[0].match.path_regex", "must not be empty"),
        Route("RejectsLowercaseMethod",
              "{name: r, match: {path_prefix: /, methods: [GET, get]}, cluster: app}",
              "routes[0].match.methods[1]", "invalid method 'get'"),
        Route("RejectsNonTokenMethod",
              "{name: r, match: {path_prefix: /, methods: ['G T']}, cluster: app}",
              "routes[0].match.methods[0]", "invalid method 'G T'"),
        Route("RejectsDuplicateMethod",
              "{name: r, match: {path_prefix: /, methods: [GET, GET]}, cluster: app}",
              "routes[0].match.methods[1]", "duplicate method 'GET'"),
        Route("RejectsBadHeaderName",
              "{name: r, match: {path_prefix: /, headers: {'x a': v}}, cluster: app}",
              "routes[0].match.headers.x a", "invalid header name 'x a'"),
        Route("RejectsDuplicateHeaderIgnoringCase",
              "{name: r, match: {path_prefix: /, headers: {X-A: '1', x-a: '2'}}, cluster: app}",
              "routes[0].match.headers.x-a", "duplicate header 'x-a'"),
        Route("RejectsHeaderValueWithNewline",
              "{name: r, match: {path_prefix: /, headers: {x-a: \"1\\r\\nx: y\"}}, cluster: app}",
              "routes[0].match.headers.x-a", "must not contain CR, LF or NUL"),
        Route("RejectsMissingAction", "{name: r, match: {path_prefix: /}}", "routes[0]",
              "one of cluster, backends, redirect, respond is required"),
        Route("RejectsEmptyClusterReference", "{name: r, match: {path_prefix: /}, cluster: ''}",
              "routes[0].cluster", "cluster name is required"),
        ErrorRow{"RejectsUnknownCluster",
                 "clusters: [{name: app, endpoints: ['a:1']}, {name: web, endpoints: ['a:1']}]\n"
                 "routes: [{name: r, match: {path_prefix: /}, cluster: ap}]\n",
                 "routes[0].cluster", "unknown cluster 'ap' (defined: app, web)"},
        ErrorRow{"RejectsClusterWhenNoneDefined",
                 "routes: [{name: r, match: {path_prefix: /}, cluster: app}]\n",
                 "routes[0].cluster", "unknown cluster 'app' (defined: none)"},
        Route("RejectsRewriteOnRedirect",
              "{name: r, match: {path_prefix: /}, rewrite: {path: /x}, redirect: {location: /}}",
              "routes[0].rewrite", "rewrite is only allowed on cluster and backends routes"),
        Route("RejectsRewriteOnRespond",
              "{name: r, match: {path_prefix: /}, rewrite: {}, respond: {status: 404}}",
              "routes[0].rewrite", "rewrite is only allowed on cluster and backends routes"),
        Route("RejectsRewritePrefixWithoutPathPrefix",
              "{name: r, match: {path_exact: /a}, rewrite: {prefix: /b}, cluster: app}",
              "routes[0].rewrite.prefix", "rewrite.prefix requires match.path_prefix"),
        Route("RejectsRewritePathAndPrefix",
              "{name: r, match: {path_prefix: /a}, rewrite: {path: /x, prefix: /b}, cluster: app}",
              "routes[0].rewrite.prefix", "rewrite.path and rewrite.prefix are exclusive"),
        Route("RejectsRewritePathWithSpace",
              "{name: r, match: {path_prefix: /a}, rewrite: {path: '/x y'}, cluster: app}",
              "routes[0].rewrite.path", "spaces"),
        Route("RejectsRewritePathNotStartingWithSlashOrGroup",
              "{name: r, match: {path_prefix: /a}, rewrite: {path: 'x/$0'}, cluster: app}",
              "routes[0].rewrite.path", "must start with '/' or a group ($1, %1), got 'x/$0'"),
        Route("RejectsRewriteHostWithSpace",
              "{name: r, match: {path_prefix: /}, rewrite: {host: 'a b'}, cluster: app}",
              "routes[0].rewrite.host", "must not contain spaces, CR or LF"),
        Route("RejectsRewriteHostWithCrLf",
              "{name: r, match: {path_prefix: /}, rewrite: {host: \"a\\r\\nx\"}, cluster: app}",
              "routes[0].rewrite.host", "must not contain spaces, CR or LF"),
        Route("RejectsRewriteHostBadPort",
              "{name: r, match: {path_prefix: /}, rewrite: {host: 'a:99999'}, cluster: app}",
              "routes[0].rewrite.host", "port must be 1..65535"),
        Route("RejectsRewriteHostBadChars",
              "{name: r, match: {path_prefix: /}, rewrite: {host: 'a/b'}, cluster: app}",
              "routes[0].rewrite.host", "invalid host 'a/b'"),
        Route("RejectsRedirectWithoutLocation",
              "{name: r, match: {path_prefix: /}, redirect: {status: 301}}",
              "routes[0].redirect.location", "location is required"),
        Route("RejectsRedirectLocationWithNewline",
              "{name: r, match: {path_prefix: /}, redirect: {location: \"/a\\nb\"}}",
              "routes[0].redirect.location", "must not contain CR or LF"),
        Route("RejectsRedirectStatus200",
              "{name: r, match: {path_prefix: /}, redirect: {location: /, status: 200}}",
              "routes[0].redirect.status", "301, 302, 303, 307 or 308, got 200"),
        Route("RejectsRedirectStatus304",
              "{name: r, match: {path_prefix: /}, redirect: {location: /, status: 304}}",
              "routes[0].redirect.status", "got 304"),
        Route("RejectsRespondStatus1xx",
              "{name: r, match: {path_prefix: /}, respond: {status: 101}}",
              "routes[0].respond.status", "status must be 200..599, got 101"),
        Route("RejectsRespondStatus600",
              "{name: r, match: {path_prefix: /}, respond: {status: 600}}",
              "routes[0].respond.status", "got 600"),
        Route("RejectsRespond204WithBody",
              "{name: r, match: {path_prefix: /}, respond: {status: 204, body: x}}",
              "routes[0].respond.body", "a 204 response has no body"),
        ErrorRow{"RejectsUnknownEscapedSlashAction",
                 "http: {path_with_escaped_slashes: drop}\n", "http.path_with_escaped_slashes",
                 "must be keep, reject or decode, got 'drop'"},
        Route("RejectsRouteTimeoutWithoutUnit",
              "{name: r, match: {path_prefix: /}, cluster: app, timeout: '15'}",
              "routes[0].timeout", "needs a unit"),
        Route("RejectsZeroRouteTimeout",
              "{name: r, match: {path_prefix: /}, cluster: app, timeout: 0ms}", "routes[0].timeout",
              "must be > 0")),
    [](const testing::TestParamInfo<ErrorRow>& info) { return std::string(info.param.name); });

}  // namespace
}  // namespace rwproxy::config
