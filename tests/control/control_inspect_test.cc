// The control service's inspection calls: Explain (checks, rewrite, endpoint, weighted
// backends), GetStats and GetClusters.
#include "tests/control/control_service_fixture.h"

namespace rwproxy::control {
namespace {

TEST_F(ControlServiceTest, ExplainReportsChecksRewriteAndEndpoint) {
  Start();
  struct Row {
    std::string method, path;
    std::map<std::string, std::string> headers;
    std::string route, action, rewritten_path, rewritten_host, cluster, endpoint, location;
    uint32_t status;
    std::vector<std::string> reasons;  // one per route tried
  };
  const Row rows[] = {
      {"GET",
       "/api/users?id=7",
       {{"Host", "front.example"}},
       "api",
       "cluster",
       "/v2/users?id=7",
       "internal.example",
       "app",
       "127.0.0.1:8080",
       "",
       0,
       {"path does not start with /docs/", "matched"}},
      {"GET",
       "/many/x",
       {{"host", "front.example"}},
       "many",
       "cluster",
       "/x",
       "front.example",
       "pool",
       "least_request over 127.0.0.1:9001, 127.0.0.1:9002",
       "",
       0,
       {"path does not start with /docs/", "path does not match ^/api/(.*)$", "matched"}},
      {"GET",
       "/docs/a",
       {},
       "docs",
       "redirect",
       "",
       "",
       "",
       "",
       "https://docs.example.com/docs/a",
       301,
       {"matched"}},
      {"DELETE",
       "/admin",
       {},
       "deny",
       "respond",
       "",
       "",
       "",
       "",
       "",
       403,
       {"path does not start with /docs/", "path does not match ^/api/(.*)$",
        "path does not start with /many/", "matched"}},
  };
  for (const Row& row : rows) {
    SCOPED_TRACE(row.path);
    v1::ExplainRequest request;
    request.set_method(row.method);
    request.set_path(row.path);
    for (const auto& [name, value] : row.headers) (*request.mutable_headers())[name] = value;
    v1::ExplainResponse response;
    auto context = Context();
    ASSERT_TRUE(stub_->Explain(context.get(), request, &response).ok());
    EXPECT_EQ(response.version(), 1u);
    EXPECT_TRUE(response.matched());
    EXPECT_EQ(response.route(), row.route);
    EXPECT_EQ(response.action(), row.action);
    EXPECT_EQ(response.rewritten_path(), row.rewritten_path);
    EXPECT_EQ(response.rewritten_host(), row.rewritten_host);
    EXPECT_EQ(response.cluster(), row.cluster);
    EXPECT_EQ(response.endpoint(), row.endpoint);
    EXPECT_EQ(response.location(), row.location);
    EXPECT_EQ(response.status(), row.status);
    ASSERT_EQ(response.checks_size(), static_cast<int>(row.reasons.size()));
    for (size_t i = 0; i < row.reasons.size(); ++i) {
      EXPECT_EQ(response.checks(i).reason(), row.reasons[i]);
      EXPECT_EQ(response.checks(i).matched(), i + 1 == row.reasons.size());
    }
  }
  v1::ExplainRequest post;
  post.set_method("POST");
  post.set_path("/api/x");
  v1::ExplainResponse response;
  auto context = Context();
  ASSERT_TRUE(stub_->Explain(context.get(), post, &response).ok());
  EXPECT_FALSE(response.matched());
  ASSERT_EQ(response.checks_size(), 4);
  EXPECT_EQ(response.checks(1).reason(), "method POST is not one of GET");
}

TEST_F(ControlServiceTest, GetStatsIsStructured) {
  Start();
  StatsSnapshot stats;
  stats.clusters["app"]["rq_total"] = 7;
  stats.clusters["app"]["upstream_cx_total"] = 2;
  stats.listeners["proxy"]["downstream_rq_total"] = 9;
  stats.server["no_route"] = 1;
  target_.set_stats(stats);
  v1::GetStatsResponse response;
  auto context = Context();
  ASSERT_TRUE(stub_->GetStats(context.get(), {}, &response).ok());
  EXPECT_EQ(response.version(), 1u);
  ASSERT_EQ(response.clusters_size(), 1);
  EXPECT_EQ(response.clusters(0).name(), "app");
  EXPECT_EQ(response.clusters(0).counters().at("rq_total"), 7u);
  EXPECT_EQ(response.clusters(0).counters().at("upstream_cx_total"), 2u);
  ASSERT_EQ(response.listeners_size(), 1);
  EXPECT_EQ(response.listeners(0).counters().at("downstream_rq_total"), 9u);
  EXPECT_EQ(response.server().at("no_route"), 1u);
}

TEST_F(ControlServiceTest, GetClustersMirrorsClusterStatus) {
  Start();
  EndpointStatus ejected;
  ejected.address = "10.0.0.5:8080";
  ejected.source = "app.default.svc:8080";
  ejected.health = "ejected";
  ejected.since_unix_ms = 1714557600000;
  ejected.reason = "5 consecutive 5xx";
  ejected.ejections = 2;
  ejected.cx_active = 3;
  ejected.cx_idle = 1;
  ejected.rq_pending = 4;
  ejected.counters = {{"rq_total", 12}, {"rq_5xx", 5}};
  EndpointStatus healthy;
  healthy.address = healthy.source = "10.0.0.6:8080";
  target_.set_clusters({{"app", false, {ejected, healthy}}, {"empty", true, {}}});

  v1::GetClustersResponse response;
  auto context = Context();
  ASSERT_TRUE(stub_->GetClusters(context.get(), {}, &response).ok());
  ASSERT_EQ(response.clusters_size(), 2);
  EXPECT_EQ(response.clusters(0).name(), "app");
  EXPECT_FALSE(response.clusters(0).panic());
  ASSERT_EQ(response.clusters(0).endpoints_size(), 2);
  const v1::EndpointStatus& e = response.clusters(0).endpoints(0);
  EXPECT_EQ(e.address(), "10.0.0.5:8080");
  EXPECT_EQ(e.source(), "app.default.svc:8080");
  EXPECT_EQ(e.health(), "ejected");
  EXPECT_EQ(e.since_unix_ms(), 1714557600000);
  EXPECT_EQ(e.reason(), "5 consecutive 5xx");
  EXPECT_EQ(e.ejections(), 2u);
  EXPECT_EQ(e.cx_active(), 3u);
  EXPECT_EQ(e.cx_idle(), 1u);
  EXPECT_EQ(e.rq_pending(), 4u);
  EXPECT_EQ(e.counters().at("rq_total"), 12u);
  EXPECT_EQ(e.counters().at("rq_5xx"), 5u);
  EXPECT_EQ(response.clusters(0).endpoints(1).health(), "healthy");
  EXPECT_EQ(response.clusters(1).name(), "empty");
  EXPECT_TRUE(response.clusters(1).panic());
  EXPECT_EQ(response.clusters(1).endpoints_size(), 0);
}

// A snapshot compiled from specs: a 90/10 split, a 1:1 split and a plain `cluster: app`.
std::shared_ptr<const Snapshot> SplitSnapshot() {
  ConfigSpec spec;
  spec.clusters.push_back({.name = "app", .endpoints = {{"127.0.0.1", 8080}}});
  spec.clusters.push_back({.name = "canary",
                           .endpoints = {{"127.0.0.1", 9001}, {"127.0.0.1", 9002}},
                           .lb_policy = LbPolicy::kRandom});
  auto route = [](std::string name, std::string prefix, std::vector<BackendSpec> backends) {
    RouteSpec r;
    r.name = std::move(name);
    r.match.path = std::move(prefix);
    r.action = ClusterAction{std::move(backends)};
    return r;
  };
  spec.routes.push_back(route("split", "/split", {{"app", 90}, {"canary", 10}}));
  spec.routes.push_back(route("tie", "/tie", {{"canary", 1}, {"app", 1}}));
  spec.routes.push_back(route("plain", "/", {{"app", 1}}));
  std::vector<FieldError> errors;
  auto snapshot = Compile(spec, 2, &errors);
  EXPECT_TRUE(errors.empty()) << errors.front().field << ": " << errors.front().message;
  return snapshot;
}

TEST_F(ControlServiceTest, ExplainListsWeightedBackends) {
  Start();
  auto snapshot = SplitSnapshot();
  ASSERT_NE(snapshot, nullptr);
  ASSERT_TRUE(target_.Publish(snapshot, absl::Seconds(1)).ok());
  auto explain = [&](const std::string& path) {
    v1::ExplainRequest request;
    request.set_path(path);
    v1::ExplainResponse response;
    auto context = Context();
    EXPECT_TRUE(stub_->Explain(context.get(), request, &response).ok());
    EXPECT_EQ(response.version(), 2u);
    return response;
  };
  const std::string canary = "random over 127.0.0.1:9001, 127.0.0.1:9002";

  v1::ExplainResponse split = explain("/split/x");
  ASSERT_EQ(split.backends_size(), 2);
  EXPECT_EQ(split.backends(0).cluster(), "app");
  EXPECT_EQ(split.backends(0).weight(), 90u);
  EXPECT_DOUBLE_EQ(split.backends(0).probability(), 0.9);
  EXPECT_EQ(split.backends(0).endpoint(), "127.0.0.1:8080");
  EXPECT_EQ(split.backends(1).cluster(), "canary");
  EXPECT_EQ(split.backends(1).weight(), 10u);
  EXPECT_DOUBLE_EQ(split.backends(1).probability(), 0.1);
  EXPECT_EQ(split.backends(1).endpoint(), canary);
  EXPECT_EQ(split.cluster(), "app");  // the most probable backend, for older clients
  EXPECT_EQ(split.endpoint(), "127.0.0.1:8080");

  v1::ExplainResponse tie = explain("/tie");
  ASSERT_EQ(tie.backends_size(), 2);
  EXPECT_DOUBLE_EQ(tie.backends(0).probability(), 0.5);
  EXPECT_EQ(tie.cluster(), "canary");  // first on ties
  EXPECT_EQ(tie.endpoint(), canary);

  v1::ExplainResponse plain = explain("/other");
  ASSERT_EQ(plain.backends_size(), 1);
  EXPECT_EQ(plain.backends(0).cluster(), "app");
  EXPECT_DOUBLE_EQ(plain.backends(0).probability(), 1.0);
  EXPECT_EQ(plain.cluster(), "app");
}

}  // namespace
}  // namespace rwproxy::control
