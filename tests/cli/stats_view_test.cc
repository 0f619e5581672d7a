#include "cli/stats_view.h"

#include <string>

#include "gmock/gmock.h"
#include "google/protobuf/struct.pb.h"
#include "google/protobuf/util/json_util.h"
#include "gtest/gtest.h"

namespace rwproxy::cli {
namespace {

namespace v1 = ::rwproxy::control::v1;
using ::testing::ElementsAre;
using ::testing::Pair;

v1::GetStatsResponse Stats() {
  v1::GetStatsResponse stats;
  stats.set_version(3);
  v1::ClusterStats* app = stats.add_clusters();
  app->set_name("app");
  (*app->mutable_counters())["rq_total"] = 10;
  (*app->mutable_counters())["rq_5xx"] = 1;
  v1::ClusterStats* other = stats.add_clusters();
  other->set_name("other");
  (*other->mutable_counters())["rq_5xx"] = 4;
  v1::ListenerStats* main = stats.add_listeners();
  main->set_name("main");
  (*main->mutable_counters())["cx_total"] = 7;
  (*stats.mutable_server())["no_route"] = 2;
  return stats;
}

TEST(StatsViewTest, FlattensToSortedDottedNames) {
  EXPECT_THAT(FlattenStats(Stats()),
              ElementsAre(Pair("cluster.app.rq_5xx", 1), Pair("cluster.app.rq_total", 10),
                          Pair("cluster.other.rq_5xx", 4), Pair("listener.main.cx_total", 7),
                          Pair("server.no_route", 2)));
}

TEST(StatsViewTest, FilterIsAnRe2PartialMatchOnTheDottedName) {
  RE2 app("^cluster\\.app\\.");
  EXPECT_THAT(FlattenStats(Stats(), &app),
              ElementsAre(Pair("cluster.app.rq_5xx", 1), Pair("cluster.app.rq_total", 10)));
  RE2 errors("5xx$");
  EXPECT_THAT(FlattenStats(Stats(), &errors),
              ElementsAre(Pair("cluster.app.rq_5xx", 1), Pair("cluster.other.rq_5xx", 4)));
  RE2 dotted("main.cx");  // '.' is any character, as in any regex
  EXPECT_THAT(FlattenStats(Stats(), &dotted), ElementsAre(Pair("listener.main.cx_total", 7)));
}

TEST(StatsViewTest, FilterStatsDropsEmptyClustersAndListeners) {
  v1::GetStatsResponse stats = Stats();
  FilterStats(RE2("rq_total"), &stats);
  ASSERT_EQ(stats.clusters_size(), 1);
  EXPECT_EQ(stats.clusters(0).name(), "app");
  EXPECT_EQ(stats.clusters(0).counters().size(), 1u);
  EXPECT_EQ(stats.listeners_size(), 0);
  EXPECT_TRUE(stats.server().empty());
  EXPECT_EQ(stats.version(), 3u);
}

TEST(StatsViewTest, TextSamples) {
  StatsSample first{1, 1714557600000, 3, {{"cluster.app.rq_total", 10}, {"server.no_route", 2}}};
  EXPECT_EQ(SampleText(first, nullptr, 0, /*watch=*/false),
            "config version 3\ncluster.app.rq_total: 10\nserver.no_route: 2\n");
  EXPECT_EQ(SampleText(first, nullptr, 0, /*watch=*/true),
            "config version 3 at 2024-05-01T10:00:00Z\ncluster.app.rq_total: 10\n"
            "server.no_route: 2\n");
  StatsSample second{
      2,
      1714557602000,
      3,
      {{"cluster.app.cx_active", 5}, {"cluster.app.rq_total", 16}, {"server.no_route", 1}}};
  EXPECT_EQ(SampleText(second, &first, 2.0, /*watch=*/true),
            "config version 3 at 2024-05-01T10:00:02Z, rates over 2.000s\n"
            "cluster.app.cx_active: 5 (new)\n"
            "cluster.app.rq_total: 16 (3.0/s)\n"
            "server.no_route: 1 (-0.5/s)\n");
}

TEST(StatsViewTest, JsonSamplesAreOneLineOfNumbers) {
  StatsSample first{1, 1714557600000, 3, {{"cluster.app.rq_total", 10}}};
  EXPECT_EQ(SampleJson(first, nullptr, 0),
            R"({"sample":1,"unix_ms":1714557600000,"version":3,"interval_seconds":0.000,)"
            R"("counters":{"cluster.app.rq_total":10},"rates":{}})");
  StatsSample second{
      2, 1714557600500, 3, {{"cluster.app.rq_total", 13}, {"cluster.app.rq_new", 1}}};
  const std::string json = SampleJson(second, &first, 0.5);
  EXPECT_EQ(json, R"({"sample":2,"unix_ms":1714557600500,"version":3,"interval_seconds":0.500,)"
                  R"("counters":{"cluster.app.rq_new":1,"cluster.app.rq_total":13},)"
                  R"("rates":{"cluster.app.rq_total":6.000}})");
  google::protobuf::Struct parsed;
  EXPECT_TRUE(google::protobuf::util::JsonStringToMessage(json, &parsed).ok());
}

}  // namespace
}  // namespace rwproxy::cli
