#include "server/stats/counters.h"

#include "gtest/gtest.h"

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

}  // namespace
}  // namespace rwproxy
