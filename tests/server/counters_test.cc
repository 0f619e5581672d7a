#include "server/stats/counters.h"

#include "gtest/gtest.h"
#include "re2/re2.h"

namespace rwproxy {
namespace {

TEST(CountersTest, ResponsesAreCountedByClass) {
  ClusterCounters c;
  for (unsigned status : {200u, 204u, 301u, 404u, 502u, 503u}) c.CountResponse(status);
  EXPECT_EQ(c.rq_total, 6u);
  EXPECT_EQ(c.rq_2xx, 2u);
  EXPECT_EQ(c.rq_3xx, 1u);
  EXPECT_EQ(c.rq_4xx, 1u);
  EXPECT_EQ(c.rq_5xx, 2u);
}

TEST(CountersTest, MergeSumsWorkersAndRendersTextAndPrometheus) {
  ClusterCounters a, b;
  a.upstream_cx_total = 2;
  b.upstream_cx_total = 3;
  StatsSnapshot one, two;
  one.Add("app", a);
  two.Add("app", b);
  ListenerCounters l;
  l.downstream_rq_total = 7;
  two.Add("proxy", l);
  one.Merge(two);
  EXPECT_EQ(one.clusters["app"]["upstream_cx_total"], 5u);
  std::string text = one.ToText();
  EXPECT_NE(text.find("cluster.app.upstream_cx_total: 5\n"), std::string::npos) << text;
  EXPECT_NE(text.find("listener.proxy.downstream_rq_total: 7\n"), std::string::npos);
  std::string prom = one.ToPrometheus();
  EXPECT_NE(prom.find("# TYPE rwproxy_cluster_upstream_cx_total counter\n"), std::string::npos)
      << prom;
  EXPECT_NE(prom.find("rwproxy_cluster_upstream_cx_total{cluster=\"app\"} 5\n"), std::string::npos);
}

// One of everything a StatsSnapshot holds, as several workers would report it.
StatsSnapshot Sample() {
  StatsSnapshot s;
  s.config_version = 7;
  s.clusters["app"]["rq_total"] = 1;
  s.clusters["app"]["rq_2xx"] = 1;
  s.clusters["canary"]["rq_total"] = 2;
  s.listeners["proxy"]["downstream_cx_active"] = 3;
  s.listeners["proxy"]["downstream_rq_total"] = 8;
  s.server["no_route"] = 4;
  s.routes["api"]["rq_total"] = 5;
  s.route_backends["api"]["app"] = 90;
  s.route_backends["api"]["canary"] = 10;
  s.endpoints["127.0.0.1:8081"]["cx_active"] = 1;
  s.endpoints["[::1]:80"]["rq_total"] = 6;
  return s;
}

TEST(CountersTest, ToJsonHasTheDashboardShape) {
  StatsSnapshot s;
  s.config_version = 3;
  s.clusters["b"]["rq_total"] = 2;
  s.clusters["a"]["rq_5xx"] = 0;
  s.clusters["a"]["rq_2xx"] = 18446744073709551615u;
  s.listeners["proxy"]["downstream_cx_active"] = 1;
  s.server["no_route"] = 4;
  s.routes["api"]["rq_total"] = 5;
  s.route_backends["api"]["app"] = 90;
  s.endpoints["127.0.0.1:8081"]["cx_active"] = 1;
  EXPECT_EQ(s.ToJson(),
            "{\"config_version\":3,"
            "\"clusters\":{\"a\":{\"rq_2xx\":18446744073709551615,\"rq_5xx\":0},"
            "\"b\":{\"rq_total\":2}},"
            "\"listeners\":{\"proxy\":{\"downstream_cx_active\":1}},"
            "\"server\":{\"no_route\":4},"
            "\"routes\":{\"api\":{\"rq_total\":5}},"
            "\"route_backends\":{\"api\":{\"app\":90}},"
            "\"endpoints\":{\"127.0.0.1:8081\":{\"cx_active\":1}}}");
}

TEST(CountersTest, ToJsonOfNothingHasEveryGroupEmpty) {
  EXPECT_EQ(StatsSnapshot().ToJson(),
            "{\"config_version\":0,\"clusters\":{},\"listeners\":{},\"server\":{},"
            "\"routes\":{},\"route_backends\":{},\"endpoints\":{}}");
}

TEST(CountersTest, ToJsonEscapesNames) {
  StatsSnapshot s;
  s.clusters["a\"b\\c"]["rq_total"] = 1;
  EXPECT_NE(s.ToJson().find("\"a\\\"b\\\\c\":{\"rq_total\":1}"), std::string::npos) << s.ToJson();
}

TEST(CountersTest, FilterMatchesTheDottedNames) {
  const StatsSnapshot s = Sample();
  struct Case {
    std::string regex;
    std::string json;  // FilterStats(s, regex).ToJson() without the config_version prefix
  };
  const Case cases[] = {
      {R"(^cluster\.app\.rq_total$)",
       R"("clusters":{"app":{"rq_total":1}},"listeners":{},"server":{},"routes":{},)"
       R"("route_backends":{},"endpoints":{}})"},
      {R"(^listener\.proxy\.)",
       R"("clusters":{},"listeners":{"proxy":{"downstream_cx_active":3,"downstream_rq_total":8}},)"
       R"("server":{},"routes":{},)"
       R"("route_backends":{},"endpoints":{}})"},
      {R"(^server\.no_route$)",
       R"("clusters":{},"listeners":{},"server":{"no_route":4},"routes":{},)"
       R"("route_backends":{},"endpoints":{}})"},
      {R"(^route\.api\.rq_total$)",  // the route's own counter, not its backends'
       R"("clusters":{},"listeners":{},"server":{},"routes":{"api":{"rq_total":5}},)"
       R"("route_backends":{},"endpoints":{}})"},
      {R"(^route\.api\.backend\.canary\.rq_total$)",
       R"("clusters":{},"listeners":{},"server":{},"routes":{},)"
       R"("route_backends":{"api":{"canary":10}},"endpoints":{}})"},
      {R"(^endpoint\.\[::1\]:80\.)",
       R"("clusters":{},"listeners":{},"server":{},"routes":{},)"
       R"("route_backends":{},"endpoints":{"[::1]:80":{"rq_total":6}}})"},
      {R"(canary)",  // partial match: anywhere in the name
       R"("clusters":{"canary":{"rq_total":2}},"listeners":{},"server":{},"routes":{},)"
       R"("route_backends":{"api":{"canary":10}},"endpoints":{}})"},
      {R"(^nothing$)",
       R"("clusters":{},"listeners":{},"server":{},"routes":{},"route_backends":{},)"
       R"("endpoints":{}})"},
  };
  for (const Case& c : cases) {
    RE2 regex(c.regex);
    ASSERT_TRUE(regex.ok()) << c.regex;
    EXPECT_EQ(FilterStats(s, regex).ToJson(), "{\"config_version\":7," + c.json) << c.regex;
  }
}

TEST(CountersTest, FilterAppliesToTextAndPrometheusLines) {
  const StatsSnapshot s = Sample();
  RE2 rq_total(R"(\.rq_total$)");
  const StatsSnapshot filtered = FilterStats(s, rq_total);
  EXPECT_FALSE(filtered.show_config_version);
  const std::string text = filtered.ToText();
  for (const char* line :
       {"cluster.app.rq_total: 1\n", "cluster.canary.rq_total: 2\n",
        "route.api.backend.app.rq_total: 90\n", "route.api.backend.canary.rq_total: 10\n"}) {
    EXPECT_NE(text.find(line), std::string::npos) << line << " missing from\n" << text;
  }
  for (const char* absent : {"rq_2xx", "config_version", "downstream", "no_route"}) {
    EXPECT_EQ(text.find(absent), std::string::npos) << absent << " in\n" << text;
  }
  const std::string prom = filtered.ToPrometheus();
  EXPECT_NE(prom.find("rwproxy_cluster_rq_total{cluster=\"canary\"} 2\n"), std::string::npos)
      << prom;
  EXPECT_EQ(prom.find("rq_2xx"), std::string::npos) << prom;
  EXPECT_EQ(prom.find("config_version"), std::string::npos) << prom;
  EXPECT_EQ(prom.find("downstream"), std::string::npos) << prom;

  RE2 version(R"(^server\.config_version$)");
  const StatsSnapshot only_version = FilterStats(s, version);
  EXPECT_EQ(only_version.ToText(), "server.config_version: 7\n");
  EXPECT_EQ(only_version.ToPrometheus(),
            "# TYPE rwproxy_server_config_version gauge\nrwproxy_server_config_version 7\n");
  // Unfiltered output is unchanged.
  EXPECT_NE(s.ToText().find("server.config_version: 7\n"), std::string::npos);
}

}  // namespace
}  // namespace rwproxy
