// config::Translate for the transport fields: a cluster's tls and a route's upgrades and
// upgrade_idle_timeout. What valid configs become, then one row per rule with its exact field
// path and message.
#include <memory>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "config/check.h"
#include "config/compiled_route.h"
#include "tests/config/translate_resilience_util.h"

namespace rwproxy::config {
namespace {

constexpr char kTransport[] = R"(clusters:
  - name: api
    endpoints: ["api.example.com:443"]
    tls: {sni: api.example.com, verify: true, ca_file: /etc/ssl/ca.pem,
          client_cert: /etc/rw/c.pem, client_key: /etc/rw/c.key, min_version: "1.2"}
  - name: app
    endpoints: ["10.0.0.1:8443"]
    tls: {}
  - name: plain
    endpoints: ["10.0.0.2:80"]
routes:
  - name: ws
    match: {path_prefix: /ws}
    cluster: app
    upgrades: [websocket]
    upgrade_idle_timeout: 2h
  - name: api
    match: {path_prefix: /}
    cluster: api
)";

// The spec of a config that must translate without errors.
ConfigSpec TranslateOk(const std::string& yaml) {
  std::vector<FieldError> errors;
  ConfigSpec spec = Translate(Parse(yaml), &errors);
  EXPECT_TRUE(errors.empty()) << Describe(errors) << yaml;
  return spec;
}

// A cluster "app" with `tls` as its tls block.
std::string WithTls(const std::string& tls) {
  return "clusters:\n  - {name: app, endpoints: ['a:1'], tls: " + tls + "}\n";
}

// A route "r" with `fields` (its action included), after the clusters "app" and "canary".
std::string WithRoute(const std::string& fields) {
  return std::string(kClusters) + "routes:\n  - {name: r, match: {path_prefix: /}, " + fields +
         "}\n";
}

TEST(TranslateTransportTest, TranslatesTlsAndUpgrades) {
  ConfigSpec spec = TranslateOk(kTransport);
  ASSERT_EQ(spec.clusters.size(), 3u);
  EXPECT_EQ(spec.clusters[0].tls,
            (UpstreamTlsSpec{"api.example.com", true, "/etc/ssl/ca.pem", "/etc/rw/c.pem",
                             "/etc/rw/c.key", TlsVersion::kTls12}));
  EXPECT_EQ(spec.clusters[1].tls, UpstreamTlsSpec{});  // tls: {} is TLS with the defaults
  EXPECT_FALSE(spec.clusters[2].tls.has_value());      // no tls: plain TCP
  EXPECT_EQ(spec.routes[0].upgrades, std::vector<std::string>{"websocket"});
  EXPECT_EQ(spec.routes[0].upgrade_idle_timeout, absl::Hours(2));
  EXPECT_TRUE(spec.routes[1].upgrades.empty());
  EXPECT_EQ(spec.routes[1].upgrade_idle_timeout, absl::Hours(1));
}

TEST(TranslateTransportTest, DefaultsOfTls) {
  const UpstreamTlsSpec tls = *TranslateOk(WithTls("{}")).clusters[0].tls;
  EXPECT_EQ(tls.sni, "");
  EXPECT_TRUE(tls.verify);
  EXPECT_EQ(tls.ca_file, "");
  EXPECT_EQ(tls.client_cert, "");
  EXPECT_EQ(tls.client_key, "");
  EXPECT_EQ(tls.min_version, TlsVersion::kTls12);
  // `tls:` with nothing after it is present too.
  EXPECT_TRUE(TranslateOk("clusters:\n  - name: app\n    endpoints: ['a:1']\n    tls:\n")
                  .clusters[0]
                  .tls.has_value());
}

TEST(TranslateTransportTest, AcceptsValidTlsVariants) {
  struct Row {
    std::string tls;
    UpstreamTlsSpec want;
  };
  const std::string name253 = std::string(63, 'a') + "." + std::string(63, 'b') + "." +
                              std::string(63, 'c') + "." + std::string(61, 'd');
  const Row rows[] = {
      {"{sni: API.Example.COM}", {.sni = "api.example.com"}},
      {"{sni: localhost}", {.sni = "localhost"}},
      {"{sni: x-1.svc.cluster.local}", {.sni = "x-1.svc.cluster.local"}},
      {"{sni: 10.0.0.5}", {.sni = "10.0.0.5"}},
      {"{sni: '2001:db8::1'}", {.sni = "2001:db8::1"}},
      {"{sni: 1e100.net}", {.sni = "1e100.net"}},
      {"{sni: " + name253 + "}", {.sni = name253}},
      {"{verify: false}", {.verify = false}},
      {"{verify: false, ca_file: ca.pem}", {.verify = false, .ca_file = "ca.pem"}},
      {"{ca_file: 'certs/my ca.pem'}", {.ca_file = "certs/my ca.pem"}},
      {"{client_cert: c.pem, client_key: /k/c.key}",
       {.client_cert = "c.pem", .client_key = "/k/c.key"}},
      {"{min_version: '1.3'}", {.min_version = TlsVersion::kTls13}},
      {"{min_version: 1.2}", {.min_version = TlsVersion::kTls12}},
  };
  for (const Row& row : rows) {
    SCOPED_TRACE(row.tls);
    EXPECT_EQ(TranslateOk(WithTls(row.tls)).clusters[0].tls, row.want);
  }
}

TEST(TranslateTransportTest, AcceptsValidUpgradeVariants) {
  ConfigSpec spec = TranslateOk(WithRoute("cluster: app, upgrades: [WebSocket, h2c, x_my~proto]"));
  EXPECT_EQ(spec.routes[0].upgrades, (std::vector<std::string>{"websocket", "h2c", "x_my~proto"}));
  spec =
      TranslateOk(WithRoute("backends: [{cluster: app}, {cluster: canary}], upgrades: [websocket], "
                            "upgrade_idle_timeout: 24h"));
  EXPECT_EQ(spec.routes[0].upgrades, std::vector<std::string>{"websocket"});
  EXPECT_EQ(spec.routes[0].upgrade_idle_timeout, absl::Hours(24));
  spec = TranslateOk(WithRoute("cluster: app, upgrades: [a, b, c, d, e, f, g, h]"));
  EXPECT_EQ(spec.routes[0].upgrades.size(), 8u);
  spec = TranslateOk(WithRoute("cluster: app, upgrades: [websocket], upgrade_idle_timeout: 250ms"));
  EXPECT_EQ(spec.routes[0].upgrade_idle_timeout, absl::Milliseconds(250));
}

TEST(TranslateTransportTest, CompiledRouteKeepsUpgrades) {
  std::vector<FieldError> errors;
  ConfigSpec spec = Check(Parse(kTransport), &errors);
  ASSERT_TRUE(errors.empty()) << Describe(errors);
  absl::flat_hash_map<std::string, int> clusters{{"api", 0}, {"app", 1}, {"plain", 2}};
  std::unique_ptr<CompiledRoute> ws = CompileRoute(spec.routes[0], 0, clusters, &errors);
  ASSERT_NE(ws, nullptr) << Describe(errors);
  EXPECT_EQ(ws->upgrades, std::vector<std::string>{"websocket"});
  EXPECT_EQ(ws->upgrade_idle_timeout, absl::Hours(2));
  std::unique_ptr<CompiledRoute> api = CompileRoute(spec.routes[1], 1, clusters, &errors);
  ASSERT_NE(api, nullptr) << Describe(errors);
  EXPECT_TRUE(api->upgrades.empty());
}

TEST(TranslateTransportTest, ReportsEveryProblemLocated) {
  constexpr char kBad[] = R"(clusters:
  - name: app
    endpoints: ["a:1"]
  - name: api
    endpoints: ["b:1"]
    tls: {sni: "b:443", min_version: "1.1", client_key: k.pem}
routes:
  - name: ws
    match: {path_prefix: /ws}
    cluster: app
    upgrades: [websocket, "web socket", WEBSOCKET]
    upgrade_idle_timeout: 48h
  - name: moved
    match: {path_prefix: /}
    redirect: {location: /x}
    upgrades: [websocket]
)";
  Config config;
  yaml::SourceMap map;
  std::vector<yaml::YamlError> yaml_errors;
  ASSERT_TRUE(yaml::ParseConfig(kBad, &config, &map, &yaml_errors));
  std::vector<FieldError> errors;
  Translate(config, &errors);
  std::vector<std::string> got;
  for (const FieldError& e : errors) {
    got.push_back(yaml::FormatError("routes.yaml", yaml::Locate(map, e.field), e.field, e.message));
  }
  EXPECT_EQ(got, (std::vector<std::string>{
                     "routes.yaml:6:11: clusters[1].tls.sni: invalid server name 'b:443': no "
                     "port: write the name only",
                     "routes.yaml:6:5: clusters[1].tls.client_cert: client_cert is required "
                     "with client_key",
                     "routes.yaml:6:25: clusters[1].tls.min_version: must be \"1.2\" or \"1.3\", "
                     "got \"1.1\"",
                     "routes.yaml:11:27: routes[0].upgrades[1]: invalid upgrade protocol 'web "
                     "socket': use a token such as websocket (letters, digits and "
                     "!#$%&'*+-.^_`|~; no /version)",
                     "routes.yaml:11:41: routes[0].upgrades[2]: duplicate upgrade 'websocket' "
                     "(first at routes[0].upgrades[0])",
                     "routes.yaml:12:5: routes[0].upgrade_idle_timeout: must be at most 24h, got "
                     "'48h'",
                     "routes.yaml:16:5: routes[1].upgrades: only routes to a cluster can tunnel "
                     "upgrades",
                 }))
      << Describe(errors);
}

struct ErrorRow {
  const char* name;
  std::string yaml;
  const char* field;
  const char* message;  // substring
};

// A row about the tls of cluster "app" (clusters[0]).
ErrorRow Tls(const char* name, const std::string& tls, const char* field, const char* message) {
  return {name, WithTls(tls), field, message};
}

// A row about a route (routes[0]) after the clusters "app" and "canary".
ErrorRow Route(const char* name, const std::string& fields, const char* field,
               const char* message) {
  return {name, WithRoute(fields), field, message};
}

class TranslateTransportErrorTest : public testing::TestWithParam<ErrorRow> {};

TEST_P(TranslateTransportErrorTest, ReportsFieldAndMessage) {
  const ErrorRow& row = GetParam();
  std::vector<FieldError> errors;
  Translate(Parse(row.yaml), &errors);
  ASSERT_EQ(errors.size(), 1u) << Describe(errors);
  EXPECT_EQ(errors[0].field, row.field);
  EXPECT_NE(errors[0].message.find(row.message), std::string::npos) << errors[0].message;
}

const std::string kLongLabel = std::string(64, 'a') + ".example.com";
const std::string kLongName = std::string(63, 'a') + "." + std::string(63, 'b') + "." +
                              std::string(63, 'c') + "." + std::string(62, 'd');  // 254

INSTANTIATE_TEST_SUITE_P(
    Rows, TranslateTransportErrorTest,
    testing::Values(
        // tls.sni.
        Tls("SniEmpty", "{sni: ''}", "clusters[0].tls.sni", "must not be empty (leave sni out"),
        Tls("SniWithPort", "{sni: 'api.example.com:443'}", "clusters[0].tls.sni",
            "invalid server name 'api.example.com:443': no port: write the name only"),
        Tls("SniBracketedIpv6", "{sni: '[::1]'}", "clusters[0].tls.sni",
            "write an IPv6 address without brackets"),
        Tls("SniBadIpv6", "{sni: '1::2::3'}", "clusters[0].tls.sni", "not an IPv6 address"),
        Tls("SniBadIpv4", "{sni: 1.2.3.999}", "clusters[0].tls.sni", "not an IPv4 address"),
        Tls("SniAllDigits", "{sni: '8080'}", "clusters[0].tls.sni", "not an IPv4 address"),
        Tls("SniUnderscore", "{sni: a_b.example.com}", "clusters[0].tls.sni",
            "label 'a_b' may only have letters, digits and '-'"),
        Tls("SniWildcard", "{sni: '*.example.com'}", "clusters[0].tls.sni",
            "label '*' may only have letters, digits and '-'"),
        Tls("SniSpace", "{sni: 'a b.com'}", "clusters[0].tls.sni", "may only have letters"),
        Tls("SniUrl", "{sni: 'https://a.com'}", "clusters[0].tls.sni",
            "write the name only, not a URL"),
        Tls("SniTrailingDot", "{sni: example.com.}", "clusters[0].tls.sni", "empty label"),
        Tls("SniDoubleDot", "{sni: a..com}", "clusters[0].tls.sni", "empty label"),
        Tls("SniHyphenEdge", "{sni: -a.example.com}", "clusters[0].tls.sni",
            "label '-a' starts or ends with '-'"),
        Tls("SniLongLabel", "{sni: " + kLongLabel + "}", "clusters[0].tls.sni",
            "is longer than 63 characters"),
        Tls("SniTooLong", "{sni: " + kLongName + "}", "clusters[0].tls.sni",
            "longer than 253 characters (254)"),
        // tls.min_version.
        Tls("MinVersionOld", "{min_version: '1.1'}", "clusters[0].tls.min_version",
            "must be \"1.2\" or \"1.3\", got \"1.1\""),
        Tls("MinVersionSpelledOut", "{min_version: TLSv1.3}", "clusters[0].tls.min_version",
            "must be \"1.2\" or \"1.3\""),
        Tls("MinVersionTrailingZero", "{min_version: 1.20}", "clusters[0].tls.min_version",
            "got \"1.20\""),
        // Client certificate and files.
        Tls("CertWithoutKey", "{client_cert: c.pem}", "clusters[0].tls.client_key",
            "client_key is required with client_cert"),
        Tls("KeyWithoutCert", "{client_key: c.key}", "clusters[0].tls.client_cert",
            "client_cert is required with client_key"),
        Tls("EmptyCaFile", "{ca_file: ''}", "clusters[0].tls.ca_file",
            "must not be empty (leave ca_file out to trust the system store)"),
        Tls("EmptyClientCert", "{client_cert: '', client_key: c.key}",
            "clusters[0].tls.client_cert", "must not be empty"),
        Tls("EmptyClientKey", "{client_cert: c.pem, client_key: ''}", "clusters[0].tls.client_key",
            "must not be empty"),
        Tls("ControlInCaFile", "{ca_file: \"/etc/ca\\n.pem\"}", "clusters[0].tls.ca_file",
            "must not contain control characters"),
        Tls("NulInClientKey", "{client_cert: c.pem, client_key: \"k\\0.pem\"}",
            "clusters[0].tls.client_key", "must not contain control characters"),
        ErrorRow{"SecondClusterPath",
                 "clusters:\n  - {name: a, endpoints: ['a:1']}\n"
                 "  - {name: b, endpoints: ['b:1'], tls: {min_version: '1.0'}}\n",
                 "clusters[1].tls.min_version", "must be \"1.2\" or \"1.3\", got \"1.0\""},
        // upgrades.
        Route("UpgradeNotToken", "cluster: app, upgrades: ['web socket']", "routes[0].upgrades[0]",
              "invalid upgrade protocol 'web socket'"),
        Route("UpgradeWithVersion", "cluster: app, upgrades: [websocket, TLS/1.0]",
              "routes[0].upgrades[1]", "no /version"),
        Route("UpgradeEmpty", "cluster: app, upgrades: ['']", "routes[0].upgrades[0]",
              "invalid upgrade protocol ''"),
        Route("UpgradeDuplicateInOtherCase", "cluster: app, upgrades: [websocket, WebSocket]",
              "routes[0].upgrades[1]",
              "duplicate upgrade 'websocket' (first at routes[0].upgrades[0])"),
        Route("TooManyUpgrades", "cluster: app, upgrades: [a, b, c, d, e, f, g, h, i]",
              "routes[0].upgrades", "at most 8 upgrades, got 9"),
        Route("UpgradesOnRedirect", "redirect: {location: /x}, upgrades: [websocket]",
              "routes[0].upgrades", "only routes to a cluster can tunnel upgrades"),
        Route("UpgradesOnRespond",
              "respond: {status: 200}, upgrades: [websocket], upgrade_idle_timeout: 5m",
              "routes[0].upgrades", "only routes to a cluster can tunnel upgrades"),
        // upgrade_idle_timeout.
        Route("IdleTimeoutOver24h",
              "cluster: app, upgrades: [websocket], upgrade_idle_timeout: 25h",
              "routes[0].upgrade_idle_timeout", "must be at most 24h, got '25h'"),
        Route("IdleTimeoutZero", "cluster: app, upgrades: [websocket], upgrade_idle_timeout: 0s",
              "routes[0].upgrade_idle_timeout", "must be > 0"),
        Route("IdleTimeoutNoUnit",
              "cluster: app, upgrades: [websocket], upgrade_idle_timeout: '30'",
              "routes[0].upgrade_idle_timeout", "needs a unit"),
        Route("IdleTimeoutInfinite",
              "cluster: app, upgrades: [websocket], upgrade_idle_timeout: inf",
              "routes[0].upgrade_idle_timeout", "must be finite"),
        Route("IdleTimeoutWithoutUpgrades", "cluster: app, upgrade_idle_timeout: 1h",
              "routes[0].upgrade_idle_timeout", "upgrade_idle_timeout needs upgrades")),
    [](const testing::TestParamInfo<ErrorRow>& info) { return std::string(info.param.name); });

}  // namespace
}  // namespace rwproxy::config
