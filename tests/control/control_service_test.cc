// The control service: validation errors with field paths, tokens, Watch, Apply/Rollback/history.
// Inspection calls (Explain, GetStats, GetClusters) are in control_inspect_test.cc.
#include "control/violations.h"
#include "tests/control/control_service_fixture.h"

namespace rwproxy::control {
namespace {

TEST_F(ControlServiceTest, InvalidConfigFailsWithSummaryAndViolationsInStatusDetails) {
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
  // One line: the count and the first violation (translation errors come first).
  EXPECT_TRUE(status.error_message().starts_with(
      "config has 2 violations; first: routes[1].cluster: unknown cluster 'nope'"))
      << status.error_message();
  EXPECT_EQ(status.error_message().find('\n'), std::string::npos);
  // No violations in a trailer of our own any more: they are in the status details.
  EXPECT_EQ(context->GetServerTrailingMetadata().count("rwproxy-violations-bin"), 0u);

  v1::ValidateResponse violations;
  ASSERT_TRUE(ParseRejectionDetails(status.error_details(), &violations));
  std::set<std::string> fields;
  for (const auto& v : violations.violations()) fields.insert(v.field());
  EXPECT_EQ(fields, (std::set<std::string>{"routes[0].match.path_regex", "routes[1].cluster"}));
  EXPECT_EQ(violations.total_violations(), 2u);
  EXPECT_FALSE(violations.truncated());
  v1::RpcStatus rpc;  // a google.rpc.Status: code and message as in the status itself
  ASSERT_TRUE(rpc.ParseFromString(status.error_details()));
  EXPECT_EQ(rpc.code(), static_cast<int>(grpc::StatusCode::INVALID_ARGUMENT));
  EXPECT_EQ(rpc.message(), status.error_message());

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

    v1::GetServerInfoResponse info;
    auto c5 = Context(row.authorization);
    EXPECT_EQ(stub_->GetServerInfo(c5.get(), {}, &info).error_code(), row.code);

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

TEST_F(ControlServiceTest, HistoryRecordsTheSourceAndTheCallersAddress) {
  Start();  // version 1: applied through the store directly, no source
  Config changed = Parse(kConfig);
  changed.mutable_routes(1)->mutable_rewrite()->set_path("/v3/$1");
  v1::ApplyRequest request;
  *request.mutable_config() = changed;
  v1::ApplyResponse response;
  auto c1 = Context();
  ASSERT_TRUE(stub_->Apply(c1.get(), request, &response).ok());
  request.set_dry_run(true);  // records nothing
  *request.mutable_config() = Parse(kConfig);
  auto c2 = Context();
  ASSERT_TRUE(stub_->Apply(c2.get(), request, &response).ok());
  v1::RollbackRequest rollback;
  rollback.set_version(1);
  auto c3 = Context();
  ASSERT_TRUE(stub_->Rollback(c3.get(), rollback, &response).ok());

  v1::ListVersionsResponse versions;
  auto c4 = Context();
  ASSERT_TRUE(stub_->ListVersions(c4.get(), {}, &versions).ok());
  ASSERT_EQ(versions.versions_size(), 3);
  // gRPC names the peer "ipv4:127.0.0.1:PORT" (the client's own port).
  auto is_loopback_peer = [](const std::string& peer) {
    return peer.starts_with("ipv4:127.0.0.1:") && peer.size() > 15 &&
           peer.find_first_not_of("0123456789", 15) == std::string::npos;
  };
  EXPECT_EQ(versions.versions(0).source(), "rollback");
  EXPECT_TRUE(is_loopback_peer(versions.versions(0).peer())) << versions.versions(0).peer();
  EXPECT_EQ(versions.versions(1).source(), "api");
  EXPECT_TRUE(is_loopback_peer(versions.versions(1).peer())) << versions.versions(1).peer();
  EXPECT_EQ(versions.versions(2).source(), "");
  EXPECT_EQ(versions.versions(2).peer(), "");
  EXPECT_EQ(store_.History(1).at(0).source(), "rollback");

  // Watch events carry them too.
  auto c5 = Context();
  auto reader = stub_->Watch(c5.get(), {});
  v1::VersionEvent event;
  ASSERT_TRUE(reader->Read(&event));
  EXPECT_EQ(event.version().source(), "rollback");
  EXPECT_EQ(event.version().peer(), versions.versions(0).peer());
  c5->TryCancel();
  while (reader->Read(&event)) {
  }
  reader->Finish();
}

TEST_F(ControlServiceTest, GetServerInfoReportsVersionUptimeAndLiveConfig) {
  const absl::Time before = absl::Now();
  Start();
  v1::GetServerInfoResponse info;
  auto context = Context();
  ASSERT_TRUE(stub_->GetServerInfo(context.get(), {}, &info).ok());
  EXPECT_EQ(info.server_version(), RWPROXY_VERSION);
  EXPECT_EQ(info.config_version(), 1u);
  EXPECT_GE(info.started_unix_ms(), absl::ToUnixMillis(before));
  EXPECT_LE(info.started_unix_ms(), absl::ToUnixMillis(absl::Now()));
  EXPECT_LT(info.uptime_seconds(), 600u);
}

TEST(ControlServiceInfoTest, UptimeCountsFromTheStartTime) {
  FakeConfigTarget target;
  ConfigStore store(&target, {});
  absl::Time now = absl::FromUnixSeconds(1714557600);
  ControlService service(&store, &target,
                         {.started = now - absl::Seconds(3723), .now = [&] { return now; }});
  grpc::ServerBuilder builder;
  int port = 0;
  builder.AddListeningPort("127.0.0.1:0", grpc::InsecureServerCredentials(), &port);
  builder.RegisterService(&service);
  std::unique_ptr<grpc::Server> server = builder.BuildAndStart();
  ASSERT_NE(server, nullptr);
  auto stub = v1::ControlPlane::NewStub(
      grpc::CreateChannel(absl::StrCat("127.0.0.1:", port), grpc::InsecureChannelCredentials()));
  v1::GetServerInfoResponse info;
  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(20));
  ASSERT_TRUE(stub->GetServerInfo(&context, {}, &info).ok());
  EXPECT_EQ(info.uptime_seconds(), 3723u);
  EXPECT_EQ(info.started_unix_ms(), 1714557600000 - 3723000);
  EXPECT_EQ(info.config_version(), 0u);
  service.Shutdown();
  server->Shutdown();
}

}  // namespace
}  // namespace rwproxy::control
