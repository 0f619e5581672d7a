// Guarded applies through the gRPC service: the guard's settings are checked (INVALID_ARGUMENT
// naming the field), Apply answers PENDING, and a Watch stream gets the verdict as one more event
// for the guarded version; ListVersions shows it.
#include "tests/control/control_service_fixture.h"

namespace rwproxy::control {
namespace {

v1::ApplyRequest GuardedRequest(const std::string& route_name, const std::string& duration) {
  Config changed = Parse(kConfig);
  changed.mutable_routes(1)->set_name(route_name);
  v1::ApplyRequest request;
  *request.mutable_config() = changed;
  request.mutable_guard()->set_duration(duration);
  request.mutable_guard()->set_min_requests(10);
  return request;
}

TEST_F(ControlServiceTest, ApplyRejectsBadGuardSettingsNamingTheField) {
  Start();
  v1::ApplyRequest request = GuardedRequest("api2", "2h");
  v1::ApplyResponse response;
  auto c1 = Context();
  grpc::Status status = stub_->Apply(c1.get(), request, &response);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(status.error_message(), "guard.duration: 2h is out of range (1s..1h)");
  request.mutable_guard()->set_duration("5s");
  request.mutable_guard()->set_max_error_ratio(2);
  request.set_dry_run(true);  // checked for a dry run too
  auto c2 = Context();
  status = stub_->Apply(c2.get(), request, &response);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_TRUE(status.error_message().starts_with("guard.max_error_ratio: 2 is out of range"))
      << status.error_message();
  EXPECT_EQ(store_.live().info.version(), 1u);
}

TEST_F(ControlServiceTest, GuardedApplyIsPendingThenTheWatchGetsTheVerdict) {
  Start();
  auto watch_context = Context();
  auto reader = stub_->Watch(watch_context.get(), {});
  v1::VersionEvent event;
  ASSERT_TRUE(reader->Read(&event));
  ASSERT_EQ(event.version().version(), 1u);

  v1::ApplyResponse response;
  auto c1 = Context();
  ASSERT_TRUE(stub_->Apply(c1.get(), GuardedRequest("api2", "30s"), &response).ok());
  EXPECT_EQ(response.version(), 2u);
  EXPECT_EQ(response.guard().outcome(), v1::GuardVerdict::PENDING);
  EXPECT_EQ(response.guard().duration(), "30s");
  EXPECT_EQ(response.guard().min_requests(), 10u);
  EXPECT_DOUBLE_EQ(response.guard().max_error_ratio(), 0.01);
  ASSERT_TRUE(reader->Read(&event));
  EXPECT_EQ(event.version().version(), 2u);
  EXPECT_EQ(event.version().guard().outcome(), v1::GuardVerdict::PENDING);

  // Version 2 fails every request (the client that applied is gone: the guard holds anyway).
  c1.reset();
  target_.AddTraffic(2, 1, 20, 20, ErrorKind::kNoRoute);
  ASSERT_TRUE(reader->Read(&event));  // the revert: version 3
  EXPECT_EQ(event.version().version(), 3u);
  EXPECT_EQ(event.version().source(), "guard");
  ASSERT_TRUE(reader->Read(&event));  // the verdict: version 2 again
  EXPECT_EQ(event.version().version(), 2u);
  EXPECT_EQ(event.version().guard().outcome(), v1::GuardVerdict::REVERTED);
  EXPECT_EQ(event.version().guard().revert_version(), 3u);
  EXPECT_EQ(event.version().guard().top_error_kind(), "no route");

  v1::ListVersionsResponse versions;
  auto c2 = Context();
  ASSERT_TRUE(stub_->ListVersions(c2.get(), {}, &versions).ok());
  ASSERT_EQ(versions.versions_size(), 3);
  EXPECT_EQ(versions.versions(1).guard().outcome(), v1::GuardVerdict::REVERTED);
  EXPECT_TRUE(versions.versions(0).description().starts_with("guard: version 2 reverted after"))
      << versions.versions(0).description();
  server_.Shutdown();
  reader->Finish();
}

}  // namespace
}  // namespace rwproxy::control
