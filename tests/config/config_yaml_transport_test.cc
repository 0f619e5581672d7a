// YAML <-> Config for the transport fields: a cluster's `tls:` and a route's `upgrades:` and
// `upgrade_idle_timeout:` (parse, source positions, located errors, stable round trip).
#include <string>
#include <vector>

#include "config/config_yaml.h"
#include "google/protobuf/util/message_differencer.h"
#include "gtest/gtest.h"

namespace rwproxy::yaml {
namespace {

using config::v1::Config;
using google::protobuf::util::MessageDifferencer;

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
    upgrade_idle_timeout: 1h
  - name: api
    match: {path_prefix: /}
    cluster: api
)";

std::string Describe(const std::vector<YamlError>& errors) {
  std::string out;
  for (const YamlError& e : errors) out += FormatError("t.yaml", e.pos, e.field, e.message) + "\n";
  return out;
}

TEST(ConfigYamlTransportTest, ParsesTlsAndUpgrades) {
  Config config;
  std::vector<YamlError> errors;
  ASSERT_TRUE(ParseConfig(kTransport, &config, nullptr, &errors)) << Describe(errors);
  ASSERT_EQ(config.clusters_size(), 3);
  const auto& api = config.clusters(0);
  ASSERT_TRUE(api.has_tls());
  EXPECT_EQ(api.tls().sni(), "api.example.com");
  ASSERT_TRUE(api.tls().has_verify());
  EXPECT_TRUE(api.tls().verify());
  EXPECT_EQ(api.tls().ca_file(), "/etc/ssl/ca.pem");
  EXPECT_EQ(api.tls().client_cert(), "/etc/rw/c.pem");
  EXPECT_EQ(api.tls().client_key(), "/etc/rw/c.key");
  EXPECT_EQ(api.tls().min_version(), "1.2");
  // `tls: {}` is TLS with the defaults: present, nothing set.
  ASSERT_TRUE(config.clusters(1).has_tls());
  EXPECT_FALSE(config.clusters(1).tls().has_sni());
  EXPECT_FALSE(config.clusters(1).tls().has_verify());
  EXPECT_FALSE(config.clusters(1).tls().has_ca_file());
  EXPECT_FALSE(config.clusters(2).has_tls());
  ASSERT_EQ(config.routes(0).upgrades_size(), 1);
  EXPECT_EQ(config.routes(0).upgrades(0), "websocket");
  EXPECT_EQ(config.routes(0).upgrade_idle_timeout(), "1h");
  EXPECT_TRUE(config.routes(1).upgrades().empty());
}

TEST(ConfigYamlTransportTest, TellsVerifyFalseAndEmptyPathsFromLeftOut) {
  Config config;
  std::vector<YamlError> errors;
  ASSERT_TRUE(ParseConfig("clusters:\n  - tls: {verify: false, ca_file: \"\", sni: \"\"}\n",
                          &config, nullptr, &errors))
      << Describe(errors);
  const auto& tls = config.clusters(0).tls();
  ASSERT_TRUE(tls.has_verify());
  EXPECT_FALSE(tls.verify());
  EXPECT_TRUE(tls.has_ca_file());
  EXPECT_TRUE(tls.has_sni());
  EXPECT_FALSE(tls.has_client_cert());
}

TEST(ConfigYamlTransportTest, UnquotedMinVersionIsText) {
  Config config;
  std::vector<YamlError> errors;
  ASSERT_TRUE(ParseConfig("clusters:\n  - tls: {min_version: 1.3}\n", &config, nullptr, &errors))
      << Describe(errors);
  EXPECT_EQ(config.clusters(0).tls().min_version(), "1.3");
}

TEST(ConfigYamlTransportTest, RecordsPositions) {
  Config config;
  SourceMap map;
  std::vector<YamlError> errors;
  ASSERT_TRUE(ParseConfig(kTransport, &config, &map, &errors)) << Describe(errors);
  EXPECT_EQ(map.at("clusters[0].tls"), (Position{4, 5}));
  EXPECT_EQ(map.at("clusters[0].tls.sni"), (Position{4, 11}));
  EXPECT_EQ(map.at("clusters[0].tls.client_cert"), (Position{5, 11}));
  EXPECT_EQ(map.at("clusters[0].tls.min_version"), (Position{5, 66}));
  EXPECT_EQ(map.at("clusters[1].tls"), (Position{8, 5}));
  EXPECT_EQ(map.at("routes[0].upgrades"), (Position{15, 5}));
  EXPECT_EQ(map.at("routes[0].upgrades[0]"), (Position{15, 16}));
  EXPECT_EQ(map.at("routes[0].upgrade_idle_timeout"), (Position{16, 5}));
  // Translate's errors below tls are located at their own entry or the closest one.
  EXPECT_EQ(Locate(map, "clusters[1].tls.client_key"), (Position{8, 5}));
}

struct ErrorRow {
  const char* name;
  const char* yaml;
  const char* field;
  Position pos;
  const char* message;  // substring
};

class ConfigYamlTransportErrorTest : public testing::TestWithParam<ErrorRow> {};

TEST_P(ConfigYamlTransportErrorTest, ReportsFieldPositionAndMessage) {
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
    Rows, ConfigYamlTransportErrorTest,
    testing::Values(ErrorRow{"TlsAsScalar",
                             "clusters:\n  - name: a\n    tls: true\n",
                             "clusters[0].tls",
                             {3, 10},
                             "expected a map, got 'true'"},
                    ErrorRow{"TlsAsList",
                             "clusters:\n  - tls: [sni]\n",
                             "clusters[0].tls",
                             {2, 10},
                             "expected a map, got a list"},
                    ErrorRow{"UnknownTlsField",
                             "clusters:\n  - tls: {snii: a}\n",
                             "clusters[0].tls.snii",
                             {2, 11},
                             "unknown field 'snii' (did you mean 'sni'?)"},
                    ErrorRow{"VerifyNotBool",
                             "clusters:\n  - name: a\n    tls:\n      verify: \"no\"\n",
                             "clusters[0].tls.verify",
                             {4, 15},
                             "expected true or false, got 'no'"},
                    ErrorRow{"CaFileAsList",
                             "clusters:\n  - tls: {ca_file: [a, b]}\n",
                             "clusters[0].tls.ca_file",
                             {2, 20},
                             "expected a string, got a list"},
                    ErrorRow{"MinVersionAsMap",
                             "clusters:\n  - tls: {min_version: {v: 1}}\n",
                             "clusters[0].tls.min_version",
                             {2, 24},
                             "expected a string, got a map"},
                    ErrorRow{"DuplicateTlsKey",
                             "clusters:\n  - tls: {sni: a, sni: b}\n",
                             "clusters[0].tls.sni",
                             {2, 19},
                             "duplicate key 'sni'"},
                    ErrorRow{"UpgradesAsScalar",
                             "routes:\n  - upgrades: websocket\n",
                             "routes[0].upgrades",
                             {2, 15},
                             "expected a list, got 'websocket'"},
                    ErrorRow{"UpgradeAsMap",
                             "routes:\n  - upgrades: [websocket, {a: b}]\n",
                             "routes[0].upgrades[1]",
                             {2, 27},
                             "expected a string, got a map"},
                    ErrorRow{"UpgradeIdleTimeoutAsList",
                             "routes:\n  - name: ws\n    upgrade_idle_timeout: [1h]\n",
                             "routes[0].upgrade_idle_timeout",
                             {3, 27},
                             "expected a string, got a list"},
                    ErrorRow{"MisspelledUpgrades",
                             "routes:\n  - upgrade: [websocket]\n",
                             "routes[0].upgrade",
                             {2, 5},
                             "unknown field 'upgrade' (did you mean 'upgrades'?)"}),
    [](const testing::TestParamInfo<ErrorRow>& info) { return std::string(info.param.name); });

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

TEST(ConfigYamlTransportTest, RoundTripsExample) {
  Config config;
  std::vector<YamlError> errors;
  ASSERT_TRUE(ParseConfig(kTransport, &config, nullptr, &errors)) << Describe(errors);
  ExpectRoundTrip(config);
}

TEST(ConfigYamlTransportTest, RoundTripsPresence) {
  Config config;
  config.add_clusters()->mutable_tls();                          // tls: {}
  config.add_clusters()->mutable_tls()->set_verify(false);       // written false
  config.add_clusters()->mutable_tls()->set_ca_file("");         // written empty
  config.add_clusters()->mutable_tls()->set_min_version("1.3");  // looks like a number
  config.add_clusters()->mutable_tls()->set_sni("2001:db8::1");  // has colons
  auto* route = config.add_routes();
  route->add_upgrades("websocket");
  route->add_upgrades("h2c");
  route->set_upgrade_idle_timeout("90s");
  ExpectRoundTrip(config);
}

TEST(ConfigYamlTransportTest, EmitsTlsAndUpgradesInFieldOrder) {
  Config config;
  std::vector<YamlError> errors;
  ASSERT_TRUE(ParseConfig(kTransport, &config, nullptr, &errors)) << Describe(errors);
  EXPECT_EQ(ToYaml(config), R"(clusters:
  - name: api
    endpoints:
      - api.example.com:443
    tls:
      sni: api.example.com
      verify: true
      ca_file: /etc/ssl/ca.pem
      client_cert: /etc/rw/c.pem
      client_key: /etc/rw/c.key
      min_version: "1.2"
  - name: app
    endpoints:
      - 10.0.0.1:8443
    tls: {}
  - name: plain
    endpoints:
      - 10.0.0.2:80
routes:
  - name: ws
    match:
      path_prefix: /ws
    cluster: app
    upgrades:
      - websocket
    upgrade_idle_timeout: 1h
  - name: api
    match:
      path_prefix: /
    cluster: api
)");
}

}  // namespace
}  // namespace rwproxy::yaml
