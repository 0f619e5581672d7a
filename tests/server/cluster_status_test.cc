// ClustersToJson / ClustersToText (server/upstream/cluster_status.h) and the admin listener's
// GET /clusters that serves them.
#include "server/upstream/cluster_status.h"

#include <string>
#include <vector>

#include "boost/asio/ip/address_v4.hpp"
#include "gtest/gtest.h"
#include "server/admin/admin_server.h"
#include "tests/support/http_client.h"

namespace rwproxy {
namespace {

// One cluster with an ejected endpoint (named by DNS) and a healthy one, and an empty cluster in
// panic.
std::vector<ClusterStatus> Sample() {
  EndpointStatus ejected;
  ejected.address = "10.0.0.5:8080";
  ejected.source = "app.svc:8080";
  ejected.health = "ejected";
  ejected.since_unix_ms = 1714557600000;  // 2024-05-01T10:00:00Z
  ejected.reason = "5 consecutive 5xx";
  ejected.ejections = 1;
  ejected.cx_active = 2;
  ejected.cx_idle = 1;
  ejected.counters = {{"rq_total", 12}, {"rq_5xx", 5}};
  EndpointStatus healthy;
  healthy.address = healthy.source = "10.0.0.6:8080";
  healthy.counters = {{"rq_total", 30}};
  return {{"app", false, {ejected, healthy}}, {"empty", true, {}}};
}

TEST(ClusterStatusTest, JsonHasEveryFieldInAStableOrder) {
  std::vector<ClusterStatus> clusters = Sample();
  clusters[0].endpoints.pop_back();
  clusters.pop_back();
  EXPECT_EQ(ClustersToJson(clusters),
            "{\"clusters\":[{\"name\":\"app\",\"panic\":false,\"endpoints\":[{"
            "\"address\":\"10.0.0.5:8080\",\"source\":\"app.svc:8080\",\"health\":\"ejected\","
            "\"since_unix_ms\":1714557600000,\"reason\":\"5 consecutive 5xx\",\"ejections\":1,"
            "\"cx_active\":2,\"cx_idle\":1,\"rq_pending\":0,"
            "\"counters\":{\"rq_5xx\":5,\"rq_total\":12}}],\"unresolved\":[]}]}\n");
  EXPECT_EQ(ClustersToJson({}), "{\"clusters\":[]}\n");
  EXPECT_EQ(ClustersToJson({{"p", true, {}}}),
            "{\"clusters\":[{\"name\":\"p\",\"panic\":true,\"endpoints\":[],"
            "\"unresolved\":[]}]}\n");
}

// A name that does not resolve yet, as the EndpointMonitor reports it.
EndpointStatus Unresolved() {
  EndpointStatus name;
  name.source = "app.local:8080";
  name.health = "unresolved";
  name.since_unix_ms = 1714557600000;  // 2024-05-01T10:00:00Z
  name.reason = "cannot resolve 'app.local': Host not found";
  name.retry_unix_ms = 1714557604000;
  name.counters = {{"dns_resolution_failure", 3}};
  return name;
}

TEST(ClusterStatusTest, JsonListsUnresolvedNamesWithErrorAndNextLookup) {
  ClusterStatus cluster{"app", false, {}};
  cluster.unresolved.push_back(Unresolved());
  EXPECT_EQ(ClustersToJson({cluster}),
            "{\"clusters\":[{\"name\":\"app\",\"panic\":false,\"endpoints\":[],"
            "\"unresolved\":[{\"source\":\"app.local:8080\",\"health\":\"unresolved\","
            "\"since_unix_ms\":1714557600000,"
            "\"reason\":\"cannot resolve 'app.local': Host not found\","
            "\"retry_unix_ms\":1714557604000,\"counters\":{\"dns_resolution_failure\":3}}]}]}\n");
}

TEST(ClusterStatusTest, TextShowsUnresolvedNamesAfterTheEndpoints) {
  std::vector<ClusterStatus> clusters = Sample();
  clusters[0].endpoints.pop_back();
  clusters[0].unresolved.push_back(Unresolved());
  clusters[1].panic = false;
  clusters[1].unresolved.push_back(Unresolved());
  EXPECT_EQ(ClustersToText(clusters),
            "CLUSTER  ADDRESS                       HEALTH      SINCE                 "
            "ACTIVE/IDLE/PENDING  RQ_TOTAL  RQ_5XX  REASON\n"
            "app  (1 unresolved)\n"
            "         10.0.0.5:8080 (app.svc:8080)  ejected     2024-05-01T10:00:00Z  "
            "2/1/0                12        5       5 consecutive 5xx (ejections: 1)\n"
            "         app.local:8080                unresolved  2024-05-01T10:00:00Z  "
            "-                    -         -       cannot resolve 'app.local': Host not found; "
            "next lookup 2024-05-01T10:00:04Z\n"
            "empty  (no resolved endpoint; 1 unresolved)\n"
            "         app.local:8080                unresolved  2024-05-01T10:00:00Z  "
            "-                    -         -       cannot resolve 'app.local': Host not found; "
            "next lookup 2024-05-01T10:00:04Z\n");
}

TEST(ClusterStatusTest, JsonEscapesQuotesControlCharactersAndInvalidUtf8) {
  EndpointStatus e;
  e.reason = std::string("say \"hi\"\\ \n\r\t\x01\x1f\x7f caf\xc3\xa9 \xff\xc3", 25);
  const std::string json = ClustersToJson({{"a\"b", false, {e}}});
  EXPECT_NE(json.find("\"name\":\"a\\\"b\""), std::string::npos) << json;
  EXPECT_NE(json.find("\"reason\":\"say \\\"hi\\\"\\\\ \\n\\r\\t\\u0001\\u001f\\u007f "
                      "caf\xc3\xa9 \\ufffd\\ufffd\""),
            std::string::npos)
      << json;
  for (char c : json.substr(0, json.size() - 1)) {
    EXPECT_GE(static_cast<unsigned char>(c), 0x20) << json;
  }
}

TEST(ClusterStatusTest, TextIsATableWithAClusterLinePerCluster) {
  EXPECT_EQ(ClustersToText(Sample()),
            "CLUSTER  ADDRESS                       HEALTH   SINCE                 "
            "ACTIVE/IDLE/PENDING  RQ_TOTAL  RQ_5XX  REASON\n"
            "app\n"
            "         10.0.0.5:8080 (app.svc:8080)  ejected  2024-05-01T10:00:00Z  "
            "2/1/0                12        5       5 consecutive 5xx (ejections: 1)\n"
            "         10.0.0.6:8080                 healthy  -                     "
            "0/0/0                30        0       -\n"
            "empty  PANIC: no endpoint available, traffic goes to all  (no endpoints)\n");
}

TEST(ClusterStatusTest, TextKeepsEachEndpointOnOneLine) {
  EndpointStatus e;
  e.address = "10.0.0.5:80";
  e.health = "unhealthy";
  e.reason = "bad\nline";
  const std::string text = ClustersToText({{"app", false, {e}}});
  EXPECT_NE(text.find("unhealthy"), std::string::npos) << text;
  EXPECT_NE(text.find("bad?line\n"), std::string::npos) << text;
}

class AdminClustersTest : public ::testing::Test {
 protected:
  void Start(AdminHandlers handlers) {
    admin_ = std::make_unique<AdminServer>(std::move(handlers));
    ASSERT_TRUE(admin_->Listen({boost::asio::ip::address_v4::loopback(), 0}).ok());
    admin_->Start();
    port_ = admin_->local_endpoint().port();
  }
  static AdminHandlers Handlers() {
    return {[] { return true; }, [] { return StatsSnapshot(); }, [] { return Sample(); }};
  }
  rwtest::HttpResponse Get(const std::string& target) {
    auto response = rwtest::Fetch(port_, "GET", target);
    EXPECT_TRUE(response.ok()) << response.status();
    return response.ok() ? *response : rwtest::HttpResponse{};
  }

  std::unique_ptr<AdminServer> admin_;
  uint16_t port_ = 0;
};

TEST_F(AdminClustersTest, ServesJsonAndText) {
  Start(Handlers());
  rwtest::HttpResponse json = Get("/clusters");
  EXPECT_EQ(json.status, 200);
  EXPECT_EQ(json.Header("content-type"), "application/json");
  EXPECT_EQ(json.body, ClustersToJson(Sample()));
  EXPECT_EQ(Get("/clusters?format=json").body, ClustersToJson(Sample()));

  rwtest::HttpResponse text = Get("/clusters?x=1&format=text");
  EXPECT_EQ(text.status, 200);
  EXPECT_EQ(text.Header("content-type"), "text/plain; charset=utf-8");
  EXPECT_EQ(text.body, ClustersToText(Sample()));

  EXPECT_EQ(Get("/clusters?format=xml").status, 400);
  rwtest::HttpResponse unknown = Get("/nope");
  EXPECT_EQ(unknown.status, 404);
  EXPECT_NE(unknown.body.find("/clusters"), std::string::npos) << unknown.body;
}

TEST_F(AdminClustersTest, WithoutAHandlerAnswers503) {
  AdminHandlers handlers = Handlers();
  handlers.clusters = nullptr;
  Start(std::move(handlers));
  EXPECT_EQ(Get("/clusters").status, 503);
  EXPECT_EQ(Get("/ready").status, 200);
}

}  // namespace
}  // namespace rwproxy
