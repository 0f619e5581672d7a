// ClusterManager: picking among the endpoints the monitor says are available, panic mode,
// retries avoiding tried endpoints, circuit breakers, the retry budget, and outlier reports.
#include "server/upstream/cluster_manager.h"

#include <set>

#include "boost/asio/io_context.hpp"
#include "gtest/gtest.h"

namespace rwproxy {
namespace {

struct Report {
  std::string cluster;
  std::string key;
  OutlierKind kind;
};

class RecordingSink : public OutlierSink {
 public:
  void ReportOutlier(const std::string& cluster, const std::string& key,
                     OutlierKind kind) override {
    reports.push_back({cluster, key, kind});
  }
  std::vector<Report> reports;
};

class ClusterManagerTest : public testing::Test {
 protected:
  ClusterManagerTest() : manager_(io_.get_executor(), &poller_, &buffers_, &registry_) {
    manager_.SetOutlierSink(&sink_);
    manager_.SetWorkerShare(1, 42);
  }

  // One cluster "app" with endpoints 127.0.0.1:1001..1003.
  std::shared_ptr<const Snapshot> MakeSnapshot(std::function<void(ClusterSpec*)> edit = {}) {
    ConfigSpec spec;
    ClusterSpec& cluster = spec.clusters.emplace_back();
    cluster.name = "app";
    for (uint16_t port : {1001, 1002, 1003}) cluster.endpoints.push_back({"127.0.0.1", port});
    if (edit) edit(&cluster);
    std::vector<FieldError> errors;
    auto snapshot = Compile(spec, 1, &errors);
    EXPECT_TRUE(errors.empty());
    return snapshot;
  }

  std::shared_ptr<const HostMap> Hosts(const Snapshot& snapshot, std::vector<uint32_t> available,
                                       uint64_t generation) {
    auto map = std::make_shared<HostMap>();
    map->generation = generation;
    auto set = std::make_shared<HostSet>();
    set->endpoints = snapshot.clusters[0].endpoints;
    set->available = std::move(available);
    map->clusters.emplace("app", set);
    return map;
  }

  std::multiset<std::string> PickMany(const ClusterInfo& cluster, int n,
                                      std::span<ConnPool* const> tried = {}) {
    std::multiset<std::string> keys;
    for (int i = 0; i < n; ++i) keys.insert(manager_.Choose(cluster, tried).pool->endpoint().key);
    return keys;
  }

  boost::asio::io_context io_;
  Poller poller_{io_};
  BufferPool buffers_;
  EndpointRegistry registry_;
  RecordingSink sink_;
  ClusterManager manager_;
};

TEST_F(ClusterManagerTest, PicksOnlyAvailableEndpoints) {
  auto snapshot = MakeSnapshot();
  manager_.Apply(snapshot, Hosts(*snapshot, {0, 2}, 1));
  auto keys = PickMany(snapshot->clusters[0], 30);
  EXPECT_EQ(keys.count("127.0.0.1:1002"), 0u);
  EXPECT_EQ(keys.count("127.0.0.1:1001"), 15u);
  EXPECT_EQ(keys.count("127.0.0.1:1003"), 15u);
  EXPECT_EQ(manager_.Counters("app")->panic_mode, 0u);
}

TEST_F(ClusterManagerTest, PanicModeUsesAllEndpointsAndCountsIt) {
  auto snapshot = MakeSnapshot();
  manager_.Apply(snapshot, Hosts(*snapshot, {}, 1));
  auto keys = PickMany(snapshot->clusters[0], 30);
  EXPECT_EQ(keys.count("127.0.0.1:1001"), 10u);
  EXPECT_EQ(keys.count("127.0.0.1:1002"), 10u);
  EXPECT_EQ(keys.count("127.0.0.1:1003"), 10u);
  EXPECT_EQ(manager_.Counters("app")->panic_mode, 30u);
}

TEST_F(ClusterManagerTest, OlderHostMapsAreIgnored) {
  auto snapshot = MakeSnapshot();
  manager_.Apply(snapshot, Hosts(*snapshot, {0}, 5));
  manager_.SetHosts(Hosts(*snapshot, {1}, 4));  // arrived late: stale
  EXPECT_EQ(PickMany(snapshot->clusters[0], 4).count("127.0.0.1:1001"), 4u);
  manager_.SetHosts(Hosts(*snapshot, {1}, 6));
  EXPECT_EQ(PickMany(snapshot->clusters[0], 4).count("127.0.0.1:1002"), 4u);
}

TEST_F(ClusterManagerTest, RetriesAvoidTriedEndpoints) {
  auto snapshot = MakeSnapshot();
  manager_.Apply(snapshot, Hosts(*snapshot, {0, 1, 2}, 1));
  const ClusterInfo& cluster = snapshot->clusters[0];
  ConnPool* first = manager_.Choose(cluster).pool;
  ConnPool* tried[] = {first};
  for (int i = 0; i < 12; ++i) EXPECT_NE(manager_.Choose(cluster, tried).pool, first);
  // With one endpoint left available, a retry may go back to it.
  manager_.SetHosts(Hosts(*snapshot, {0}, 2));
  ConnPool* only = manager_.Choose(cluster).pool;
  ConnPool* tried_only[] = {only};
  EXPECT_EQ(manager_.Choose(cluster, tried_only).pool, only);
}

TEST_F(ClusterManagerTest, CircuitBreakerLimitsRequestsInFlight) {
  auto snapshot = MakeSnapshot([](ClusterSpec* c) { c->breakers.max_requests = 2; });
  manager_.Apply(snapshot, nullptr);
  const ClusterInfo& cluster = snapshot->clusters[0];
  BreakerSlot a = manager_.AdmitRequest(cluster);
  BreakerSlot b = manager_.AdmitRequest(cluster);
  EXPECT_TRUE(a && b);
  EXPECT_FALSE(manager_.AdmitRequest(cluster));
  EXPECT_EQ(manager_.Counters("app")->upstream_rq_overflow, 1u);
  { BreakerSlot done = std::move(a); }  // a request finished
  EXPECT_TRUE(manager_.AdmitRequest(cluster));
  EXPECT_EQ(registry_.GetCluster("app")->requests.load(), 1u);  // only b is still in flight
}

TEST_F(ClusterManagerTest, RetriesNeedBudgetAndARetrySlot) {
  auto snapshot = MakeSnapshot([](ClusterSpec* c) {
    c->breakers.max_retries = 1;
    c->retry_budget = {0.5, 0};
  });
  manager_.Apply(snapshot, nullptr);
  const ClusterInfo& cluster = snapshot->clusters[0];
  BreakerSlot r1 = manager_.AdmitRequest(cluster);  // +0.5
  EXPECT_FALSE(manager_.AdmitRetry(cluster));       // half a retry is not one
  BreakerSlot r2 = manager_.AdmitRequest(cluster);  // +0.5 = 1
  BreakerSlot retry = manager_.AdmitRetry(cluster);
  EXPECT_TRUE(retry);
  manager_.AdmitRequest(cluster);
  manager_.AdmitRequest(cluster);
  EXPECT_FALSE(manager_.AdmitRetry(cluster));  // budget yes, but max_retries 1 is in use
  { BreakerSlot done = std::move(retry); }
  EXPECT_TRUE(manager_.AdmitRetry(cluster));
  EXPECT_EQ(manager_.Counters("app")->upstream_rq_retry, 2u);
  EXPECT_EQ(manager_.Counters("app")->upstream_rq_retry_overflow, 2u);
}

TEST_F(ClusterManagerTest, ReportsAnOutlierOnceAtTheThresholdAndSuccessResets) {
  auto snapshot = MakeSnapshot([](ClusterSpec* c) {
    OutlierSpec outlier;
    outlier.consecutive_5xx = 3;
    outlier.consecutive_connect_failures = 2;
    c->outlier = outlier;
  });
  manager_.Apply(snapshot, nullptr);
  const ClusterInfo& cluster = snapshot->clusters[0];
  ConnPool* pool = manager_.Choose(cluster).pool;
  manager_.Observe(cluster, pool, TryResult::kResponse, 503);
  manager_.Observe(cluster, pool, TryResult::kReset, 0);
  manager_.Observe(cluster, pool, TryResult::kResponse, 200);  // resets the run
  EXPECT_TRUE(sink_.reports.empty());
  for (int i = 0; i < 4; ++i) manager_.Observe(cluster, pool, TryResult::kResponse, 502);
  ASSERT_EQ(sink_.reports.size(), 1u);
  EXPECT_EQ(sink_.reports[0].key, pool->endpoint().key);
  EXPECT_EQ(sink_.reports[0].kind, OutlierKind::k5xx);
  manager_.Observe(cluster, pool, TryResult::kConnectFailure, 0);
  manager_.Observe(cluster, pool, TryResult::kConnectFailure, 0);
  ASSERT_EQ(sink_.reports.size(), 2u);
  EXPECT_EQ(sink_.reports[1].kind, OutlierKind::kConnectFailure);
  EXPECT_EQ(pool->counters.rq_5xx, 8u);
  EXPECT_EQ(pool->counters.rq_total, 9u);
}

TEST_F(ClusterManagerTest, NoOutlierReportsWithoutOutlierDetection) {
  auto snapshot = MakeSnapshot();
  manager_.Apply(snapshot, nullptr);
  const ClusterInfo& cluster = snapshot->clusters[0];
  ConnPool* pool = manager_.Choose(cluster).pool;
  for (int i = 0; i < 20; ++i) manager_.Observe(cluster, pool, TryResult::kResponse, 503);
  EXPECT_TRUE(sink_.reports.empty());
}

}  // namespace
}  // namespace rwproxy
