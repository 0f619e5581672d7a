#include "control/control_service.h"

#include <chrono>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "control/control_server.h"
#include "grpcpp/grpcpp.h"
#include "gtest/gtest.h"
#include "proto/config_yaml.h"
#include "proto/control.grpc.pb.h"
#include "tests/control/fake_config_target.h"

namespace rwproxy::control {
namespace {

using config::v1::Config;

constexpr char kToken[] = "s3cret-token";

Config Parse(const std::string& text) {
  Config config;
  std::vector<yaml::YamlError> errors;
  EXPECT_TRUE(yaml::ParseConfig(text, &config, nullptr, &errors)) << text;
  return config;
}

constexpr char kConfig[] = R"(clusters:
  - {name: app, endpoints: ["127.0.0.1:8080"]}
  - {name: pool, endpoints: ["127.0.0.1:9001", "127.0.0.1:9002"], lb_policy: least_request}
routes:
  - name: docs
    match: {path_prefix: /docs/}
    redirect: {location: "https://docs.example.com$0", status: 301}
  - name: api
    match: {path_regex: "^/api/(.*)$", methods: [GET]}
    rewrite: {path: "/v2/$1", host: internal.example}
    cluster: app
  - name: many
    match: {path_prefix: /many/}
    rewrite: {prefix: /}
    cluster: pool
  - name: deny
    match: {path_prefix: /admin}
    respond: {status: 403, body: "no\n"}
)";

// A ControlServer on 127.0.0.1:0 over a ConfigStore and a fake data plane, plus a client stub.
class ControlServiceTest : public ::testing::Test {
 protected:
  void Start(const std::string& token = "") {
    ASSERT_TRUE(store_.Apply(Parse(kConfig), {.description = "initial"}).ok());
    auto address = server_.Start("127.0.0.1:0", token, [this](const std::string& line) {
      std::lock_guard<std::mutex> lock(log_mu_);
      log_.push_back(line);
    });
    ASSERT_TRUE(address.ok()) << address.status();
    ASSERT_TRUE(address->starts_with("127.0.0.1:")) << *address;
    ASSERT_NE(*address, "127.0.0.1:0");
    stub_ = v1::ControlPlane::NewStub(
        grpc::CreateChannel(*address, grpc::InsecureChannelCredentials()));
  }

  // A client context with a deadline (so a broken server fails the test instead of hanging) and,
  // when given, the authorization metadata.
  static std::unique_ptr<grpc::ClientContext> Context(const std::string& authorization = "") {
    auto context = std::make_unique<grpc::ClientContext>();
    context->set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(20));
    if (!authorization.empty()) context->AddMetadata("authorization", authorization);
    return context;
  }

  std::vector<std::string> Log() {
    std::lock_guard<std::mutex> lock(log_mu_);
    return log_;
  }

  FakeConfigTarget target_;
  ConfigStore store_{&target_, {}};
  ControlServer server_{&store_, &target_};
  std::unique_ptr<v1::ControlPlane::Stub> stub_;
  std::mutex log_mu_;
  std::vector<std::string> log_;
};

TEST_F(ControlServiceTest, InvalidConfigFailsWithFieldPathsAndViolationsMetadata) {
  Start();
  v1::ApplyRequest request;
  *request.mutable_config() = Parse(
      "clusters: [{name: app, endpoints: ['127.0.0.1:80']}]\n"
      "routes: [{name: r, match: {path_regex: '^/api/(.*$'}, cluster: app},\n"
      "         {name: s, match: {path_prefix: /}, cluster: nope}]\n");
  v1::ApplyResponse response;
  auto context = Context();
  grpc::Status status = stub_->Apply(context.get(), request, &response);
  ASSERT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT) << status.error_message();
  EXPECT_NE(status.error_message().find("routes[0].match.path_regex: missing )"), std::string::npos)
      << status.error_message();
  EXPECT_NE(status.error_message().find("routes[1].cluster: unknown cluster 'nope'"),
            std::string::npos)
      << status.error_message();
  EXPECT_NE(status.error_message().find('\n'), std::string::npos);  // one violation per line

  const auto& trailers = context->GetServerTrailingMetadata();
  auto it = trailers.find(kViolationsMetadataKey);
  ASSERT_NE(it, trailers.end());
  v1::ValidateResponse violations;
  ASSERT_TRUE(violations.ParseFromString(std::string(it->second.data(), it->second.size())));
  std::set<std::string> fields;
  for (const auto& v : violations.violations()) fields.insert(v.field());
  EXPECT_EQ(fields, (std::set<std::string>{"routes[0].match.path_regex", "routes[1].cluster"}));

  EXPECT_EQ(store_.live().info.version(), 1u);
  EXPECT_EQ(target_.published(), std::vector<uint64_t>{1});
}

TEST_F(ControlServiceTest, ValidateReturnsViolationsWithOk) {
  Start();
  v1::ValidateRequest request;
  *request.mutable_config() = Parse("clusters: [{name: app, endpoints: ['127.0.0.1']}]\n");
  v1::ValidateResponse response;
  auto context = Context();
  grpc::Status status = stub_->Validate(context.get(), request, &response);
  ASSERT_TRUE(status.ok()) << status.error_message();
  ASSERT_EQ(response.violations_size(), 1);
  EXPECT_EQ(response.violations(0).field(), "clusters[0].endpoints[0]");

  *request.mutable_config() = Parse(kConfig);
  response.Clear();
  auto again = Context();
  ASSERT_TRUE(stub_->Validate(again.get(), request, &response).ok());
  EXPECT_EQ(response.violations_size(), 0);
}

TEST_F(ControlServiceTest, TokenIsRequiredOnEveryCall) {
  Start(kToken);
  struct Row {
    std::string authorization;
    grpc::StatusCode code;
  };
  const Row rows[] = {
      {"", grpc::StatusCode::UNAUTHENTICATED},
      {"Bearer wrong", grpc::StatusCode::UNAUTHENTICATED},
      {"Bearer s3cret-token-and-more", grpc::StatusCode::UNAUTHENTICATED},
      {"Bearer s3cret-toke", grpc::StatusCode::UNAUTHENTICATED},
      {"Basic s3cret-token", grpc::StatusCode::UNAUTHENTICATED},
      {"s3cret-token", grpc::StatusCode::UNAUTHENTICATED},
      {absl::StrCat("Bearer ", kToken), grpc::StatusCode::OK},
  };
  for (const Row& row : rows) {
    SCOPED_TRACE(row.authorization);
    v1::GetConfigResponse config;
    auto c1 = Context(row.authorization);
    EXPECT_EQ(stub_->GetConfig(c1.get(), {}, &config).error_code(), row.code);

    v1::ApplyRequest apply;
    *apply.mutable_config() = Parse(kConfig);
    v1::ApplyResponse applied;
    auto c2 = Context(row.authorization);
    EXPECT_EQ(stub_->Apply(c2.get(), apply, &applied).error_code(), row.code);

    v1::GetClustersResponse clusters;
    auto c4 = Context(row.authorization);
    EXPECT_EQ(stub_->GetClusters(c4.get(), {}, &clusters).error_code(), row.code);

    auto c3 = Context(row.authorization);
    auto reader = stub_->Watch(c3.get(), {});
    v1::VersionEvent event;
    if (row.code == grpc::StatusCode::OK) {
      ASSERT_TRUE(reader->Read(&event));
      EXPECT_EQ(event.version().version(), 1u);
      c3->TryCancel();
      while (reader->Read(&event)) {
      }
      reader->Finish();
    } else {
      EXPECT_FALSE(reader->Read(&event));
      EXPECT_EQ(reader->Finish().error_code(), row.code);
    }
  }
}

TEST(ConstantTimeEqualsTest, ComparesWholeStrings) {
  EXPECT_TRUE(ConstantTimeEquals("abc", "abc"));
  EXPECT_TRUE(ConstantTimeEquals("", ""));
  EXPECT_FALSE(ConstantTimeEquals("abc", "abd"));
  EXPECT_FALSE(ConstantTimeEquals("abc", "ab"));
  EXPECT_FALSE(ConstantTimeEquals("", "a"));
}

TEST_F(ControlServiceTest, WatchSendsCurrentVersionThenEachChange) {
  Start();
  auto context = Context();
  auto reader = stub_->Watch(context.get(), {});
  v1::VersionEvent event;
  ASSERT_TRUE(reader->Read(&event));
  EXPECT_EQ(event.version().version(), 1u);
  EXPECT_EQ(event.version().description(), "initial");

  Config changed = Parse(kConfig);
  changed.mutable_routes(1)->set_name("api2");
  v1::ApplyRequest request;
  *request.mutable_config() = changed;
  request.set_description("rename api");
  v1::ApplyResponse response;
  auto apply = Context();
  ASSERT_TRUE(stub_->Apply(apply.get(), request, &response).ok());
  EXPECT_EQ(response.version(), 2u);
  EXPECT_TRUE(response.changed());

  ASSERT_TRUE(reader->Read(&event));
  EXPECT_EQ(event.version().version(), 2u);
  EXPECT_EQ(event.version().description(), "rename api");
  EXPECT_EQ(event.version().content_hash(), response.content_hash());

  // The server shutting down ends the stream (and is not held up by it).
  server_.Shutdown();
  EXPECT_FALSE(reader->Read(&event));
  grpc::Status status = reader->Finish();
  EXPECT_TRUE(status.ok() || status.error_code() == grpc::StatusCode::UNAVAILABLE)
      << status.error_message();
}

TEST_F(ControlServiceTest, ApplyRollbackAndListVersions) {
  Start();
  Config changed = Parse(kConfig);
  changed.mutable_routes(1)->mutable_rewrite()->set_path("/v3/$1");
  v1::ApplyRequest request;
  *request.mutable_config() = changed;
  request.set_expected_version(1);
  request.set_description("v3 api");
  v1::ApplyResponse response;
  auto c1 = Context();
  ASSERT_TRUE(stub_->Apply(c1.get(), request, &response).ok());
  EXPECT_EQ(response.version(), 2u);
  EXPECT_EQ(target_.current()->version, 2u);  // published before Apply returned

  auto c2 = Context();  // same content, stale expected version
  grpc::Status stale = stub_->Apply(c2.get(), request, &response);
  EXPECT_EQ(stale.error_code(), grpc::StatusCode::FAILED_PRECONDITION);
  EXPECT_EQ(stale.error_message(), "expected version 1, live is 2");

  request.clear_expected_version();
  auto c3 = Context();
  ASSERT_TRUE(stub_->Apply(c3.get(), request, &response).ok());
  EXPECT_EQ(response.version(), 2u);
  EXPECT_FALSE(response.changed());

  v1::RollbackRequest rollback;
  rollback.set_version(1);
  auto c4 = Context();
  ASSERT_TRUE(stub_->Rollback(c4.get(), rollback, &response).ok());
  EXPECT_EQ(response.version(), 3u);
  EXPECT_TRUE(response.changed());
  rollback.set_version(42);
  auto c5 = Context();
  EXPECT_EQ(stub_->Rollback(c5.get(), rollback, &response).error_code(),
            grpc::StatusCode::NOT_FOUND);

  v1::ListVersionsResponse versions;
  auto c6 = Context();
  ASSERT_TRUE(stub_->ListVersions(c6.get(), {}, &versions).ok());
  ASSERT_EQ(versions.versions_size(), 3);
  EXPECT_EQ(versions.versions(0).version(), 3u);
  EXPECT_EQ(versions.versions(0).description(), "rollback to version 1");
  EXPECT_EQ(versions.versions(1).description(), "v3 api");
  EXPECT_EQ(versions.versions(2).version(), 1u);

  v1::GetConfigResponse live;
  auto c7 = Context();
  ASSERT_TRUE(stub_->GetConfig(c7.get(), {}, &live).ok());
  EXPECT_EQ(live.version(), 3u);
  EXPECT_EQ(live.config().routes(1).rewrite().path(), "/v2/$1");
  EXPECT_EQ(live.content_hash(), versions.versions(2).content_hash());

  // Mutations are logged with version, hash and description.
  std::vector<std::string> log = Log();
  ASSERT_GE(log.size(), 4u);
  EXPECT_NE(log[0].find("version 2, hash " + versions.versions(1).content_hash()),
            std::string::npos)
      << log[0];
  EXPECT_NE(log[0].find("\"v3 api\""), std::string::npos) << log[0];
  EXPECT_NE(log[1].find("rejected: FAILED_PRECONDITION"), std::string::npos) << log[1];
  EXPECT_NE(log[3].find("Rollback to version 1"), std::string::npos) << log[3];
}

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
  target_.Publish(snapshot);
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
