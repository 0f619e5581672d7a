#include "config/config_yaml.h"

#include <string>

#include "gtest/gtest.h"
#include "proto/control.pb.h"
#include "yaml-cpp/yaml.h"

namespace rwproxy::yaml {
namespace {

namespace v1 = ::rwproxy::control::v1;

TEST(MessageYamlTest, PrintsEveryScalarLikeTheJsonAndSortsMaps) {
  v1::GetClustersResponse response;
  v1::ClusterStatus* app = response.add_clusters();
  app->set_name("app");
  v1::EndpointStatus* endpoint = app->add_endpoints();
  endpoint->set_address("10.0.0.5:8080");
  endpoint->set_health("ejected");
  endpoint->set_since_unix_ms(1714557600000);
  endpoint->set_reason("true");  // would read as a bool: quoted
  (*endpoint->mutable_counters())["rq_total"] = 12;
  (*endpoint->mutable_counters())["rq_5xx"] = 5;
  v1::ClusterStatus* empty = response.add_clusters();
  empty->set_name("empty");
  EXPECT_EQ(MessageToYaml(response),
            "clusters:\n"
            "  - name: app\n"
            "    panic: false\n"
            "    endpoints:\n"
            "      - address: 10.0.0.5:8080\n"
            "        source: \"\"\n"
            "        health: ejected\n"
            "        since_unix_ms: 1714557600000\n"
            "        reason: \"true\"\n"
            "        ejections: 0\n"
            "        cx_active: 0\n"
            "        cx_idle: 0\n"
            "        rq_pending: 0\n"
            "        counters:\n"
            "          rq_5xx: 5\n"
            "          rq_total: 12\n"
            "        retry_unix_ms: 0\n"
            "    unresolved: []\n"
            "  - name: empty\n"
            "    panic: false\n"
            "    endpoints: []\n"
            "    unresolved: []\n");
  YAML::Node node = YAML::Load(MessageToYaml(response));
  EXPECT_EQ(node["clusters"][0]["endpoints"][0]["address"].as<std::string>(), "10.0.0.5:8080");
  EXPECT_EQ(node["clusters"][0]["endpoints"][0]["reason"].as<std::string>(), "true");
}

TEST(MessageYamlTest, EmptyMessageIsAnEmptyMap) {
  EXPECT_EQ(MessageToYaml(v1::GetClustersRequest()), "{}\n");
  EXPECT_EQ(MessageToYaml(v1::GetClustersResponse()), "clusters: []\n");
}

}  // namespace
}  // namespace rwproxy::yaml
