#include "cli/clusters_table.h"

#include <string>

#include "gtest/gtest.h"

namespace rwproxy::cli {
namespace {

namespace v1 = ::rwproxy::control::v1;

TEST(ClustersTableTest, MatchesTheAdminTextLayout) {
  v1::GetClustersResponse response;
  v1::ClusterStatus* app = response.add_clusters();
  app->set_name("app");
  v1::EndpointStatus* ejected = app->add_endpoints();
  ejected->set_address("10.0.0.5:8080");
  ejected->set_source("app.svc:8080");
  ejected->set_health("ejected");
  ejected->set_since_unix_ms(1714557600000);
  ejected->set_reason("5 consecutive 5xx");
  ejected->set_ejections(1);
  ejected->set_cx_active(2);
  ejected->set_cx_idle(1);
  (*ejected->mutable_counters())["rq_total"] = 12;
  (*ejected->mutable_counters())["rq_5xx"] = 5;
  v1::EndpointStatus* healthy = app->add_endpoints();
  healthy->set_address("10.0.0.6:8080");
  healthy->set_source("10.0.0.6:8080");
  healthy->set_health("healthy");
  (*healthy->mutable_counters())["rq_total"] = 30;
  v1::ClusterStatus* empty = response.add_clusters();
  empty->set_name("empty");
  empty->set_panic(true);
  // The same text as ClusterStatusTest.TextIsATableWithAClusterLinePerCluster
  // (tests/server/cluster_status_test.cc) for the same input.
  EXPECT_EQ(ClustersTable(response),
            "CLUSTER  ADDRESS                       HEALTH   SINCE                 "
            "ACTIVE/IDLE/PENDING  RQ_TOTAL  RQ_5XX  REASON\n"
            "app\n"
            "         10.0.0.5:8080 (app.svc:8080)  ejected  2024-05-01T10:00:00Z  "
            "2/1/0                12        5       5 consecutive 5xx (ejections: 1)\n"
            "         10.0.0.6:8080                 healthy  -                     "
            "0/0/0                30        0       -\n"
            "empty  PANIC: no endpoint available, traffic goes to all  (no endpoints)\n");
}

TEST(ClustersTableTest, ShowsUnresolvedNamesLikeTheAdminText) {
  v1::GetClustersResponse response;
  v1::ClusterStatus* app = response.add_clusters();
  app->set_name("app");
  v1::EndpointStatus* healthy = app->add_endpoints();
  healthy->set_address("10.0.0.6:8080");
  healthy->set_source("10.0.0.6:8080");
  healthy->set_health("healthy");
  v1::EndpointStatus* name = app->add_unresolved();
  name->set_source("app.local:8080");
  name->set_health("unresolved");
  name->set_since_unix_ms(1714557600000);
  name->set_reason("cannot resolve 'app.local': Host not found");
  name->set_retry_unix_ms(1714557604000);
  v1::ClusterStatus* dark = response.add_clusters();
  dark->set_name("dark");
  *dark->add_unresolved() = *name;
  EXPECT_EQ(ClustersTable(response),
            "CLUSTER  ADDRESS         HEALTH      SINCE                 ACTIVE/IDLE/PENDING  "
            "RQ_TOTAL  RQ_5XX  REASON\n"
            "app  (1 unresolved)\n"
            "         10.0.0.6:8080   healthy     -                     0/0/0                0"
            "         0       -\n"
            "         app.local:8080  unresolved  2024-05-01T10:00:00Z  -                    -"
            "         -       cannot resolve 'app.local': Host not found; next lookup "
            "2024-05-01T10:00:04Z\n"
            "dark  (no resolved endpoint; 1 unresolved)\n"
            "         app.local:8080  unresolved  2024-05-01T10:00:00Z  -                    -"
            "         -       cannot resolve 'app.local': Host not found; next lookup "
            "2024-05-01T10:00:04Z\n");
}

TEST(ClustersTableTest, FormatsPercentages) {
  EXPECT_EQ(FormatPercent(0.9), "90%");
  EXPECT_EQ(FormatPercent(0.1), "10%");
  EXPECT_EQ(FormatPercent(1.0), "100%");
  EXPECT_EQ(FormatPercent(1.0 / 3), "33.3%");
  EXPECT_EQ(FormatPercent(0.0001), "<0.1%");
  EXPECT_EQ(FormatPercent(0), "0%");
}

TEST(ClustersTableTest, BackendLineNamesClusterShareAndEndpoints) {
  v1::ExplainBackend backend;
  backend.set_cluster("app");
  backend.set_weight(90);
  backend.set_probability(0.9);
  backend.set_endpoint("round_robin over 10.0.0.1:80, 10.0.0.2:80");
  EXPECT_EQ(BackendLine(backend), "backend app 90% (round_robin over 10.0.0.1:80, 10.0.0.2:80)");
  backend.clear_endpoint();
  EXPECT_EQ(BackendLine(backend), "backend app 90%");
}

}  // namespace
}  // namespace rwproxy::cli
