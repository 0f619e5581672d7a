// The control API's liveness limits: a call that expired or was cancelled while queued is not
// run, the task queue and the Watch streams are bounded, and an exception in a handler becomes
// INTERNAL instead of a crash. (Rejections and Explain's input limits: control_rejection_test.cc.)
#include "gmock/gmock.h"
#include "tests/control/control_limits_fixture.h"

namespace rwproxy::control {
namespace {

using ::testing::HasSubstr;

// ---- Calls that expired while queued, and the queue bound ----

TEST_F(ControlLimitsTest, ApplyPastItsDeadlineWhileQueuedIsNotApplied) {
  Start();
  target_.Block();
  auto first = StartApply(Variant("first"), std::chrono::seconds(20));
  ASSERT_TRUE(target_.WaitEntered(2));  // the initial apply, then `first`: the thread is held
  auto late = StartApply(Variant("late"), milliseconds(300));
  ASSERT_TRUE(WaitQueued(1));
  // The client gives up once its deadline passes; the server, once its own deadline for the call
  // passes (a little later: transit and rounding), takes the call off the queue.
  EXPECT_EQ(Await(*late).error_code(), grpc::StatusCode::DEADLINE_EXCEEDED);
  ASSERT_TRUE(WaitQueued(0));
  target_.Release();
  ASSERT_TRUE(Await(*first).ok());
  EXPECT_EQ(first->response.version(), 2u);
  ASSERT_TRUE(Drain().ok());  // `late` has had its turn

  EXPECT_EQ(store_.live().info.version(), 2u);
  EXPECT_EQ(target_.published(), (std::vector<uint64_t>{1, 2}));
  EXPECT_EQ(store_.History(0).size(), 2u);
}

TEST_F(ControlLimitsTest, ApplyCancelledWhileQueuedIsNotApplied) {
  Start();
  target_.Block();
  auto first = StartApply(Variant("first"), std::chrono::seconds(20));
  ASSERT_TRUE(target_.WaitEntered(2));
  auto cancelled = StartApply(Variant("cancelled"), std::chrono::seconds(20));
  ASSERT_TRUE(WaitQueued(1));
  cancelled->context.TryCancel();
  EXPECT_EQ(Await(*cancelled).error_code(), grpc::StatusCode::CANCELLED);
  ASSERT_TRUE(WaitQueued(0));  // the server saw the cancellation: the call left the queue
  target_.Release();
  ASSERT_TRUE(Await(*first).ok());
  ASSERT_TRUE(Drain().ok());

  EXPECT_EQ(store_.live().info.version(), 2u);
  EXPECT_EQ(target_.published(), (std::vector<uint64_t>{1, 2}));
}

TEST_F(ControlLimitsTest, QueueIsBoundedAndExcessGetsResourceExhausted) {
  ControlLimits limits;
  limits.max_queued_calls = 2;
  Start(limits);
  target_.Block();
  auto first = StartApply(Variant("first"), std::chrono::seconds(20));
  ASSERT_TRUE(target_.WaitEntered(2));
  auto queued_a = StartValidate();
  auto queued_b = StartValidate();
  ASSERT_TRUE(WaitQueued(2));

  v1::ValidateRequest request;
  *request.mutable_config() = Parse(kConfig);
  v1::ValidateResponse response;
  auto context = Context();
  grpc::Status refused = stub_->Validate(context.get(), request, &response);
  EXPECT_EQ(refused.error_code(), grpc::StatusCode::RESOURCE_EXHAUSTED);
  EXPECT_THAT(refused.error_message(), HasSubstr("limit 2"));
  // Reads that need no task thread still answer.
  v1::GetConfigResponse live;
  auto read = Context();
  EXPECT_TRUE(stub_->GetConfig(read.get(), v1::GetConfigRequest(), &live).ok());

  target_.Release();
  EXPECT_TRUE(Await(*first).ok());
  EXPECT_TRUE(Await(*queued_a).ok());
  EXPECT_TRUE(Await(*queued_b).ok());
  EXPECT_TRUE(Drain().ok());  // room again
}

// ---- Watch streams ----

TEST_F(ControlLimitsTest, WatchStreamsAreBounded) {
  ControlLimits limits;
  limits.max_watch_streams = 2;
  Start(limits);
  struct Watcher {
    std::unique_ptr<grpc::ClientContext> context = Context();
    std::unique_ptr<grpc::ClientReader<v1::VersionEvent>> reader;
  };
  auto open = [&] {
    Watcher w;
    w.reader = stub_->Watch(w.context.get(), v1::WatchRequest());
    return w;
  };
  std::vector<Watcher> open_ones;
  for (int i = 0; i < 2; ++i) {
    open_ones.push_back(open());
    v1::VersionEvent event;
    ASSERT_TRUE(open_ones.back().reader->Read(&event));  // registered: it got the live version
  }
  Watcher excess = open();
  v1::VersionEvent event;
  EXPECT_FALSE(excess.reader->Read(&event));
  grpc::Status status = excess.reader->Finish();
  EXPECT_EQ(status.error_code(), grpc::StatusCode::RESOURCE_EXHAUSTED);
  EXPECT_THAT(status.error_message(), HasSubstr("limit 2"));

  // Closing one makes room for another.
  open_ones.front().context->TryCancel();
  open_ones.front().reader->Finish();
  ASSERT_TRUE(rwtest::WaitFor([&] { return server_.service()->OpenWatchStreams() == 1; },
                              std::chrono::seconds(10), "one open Watch stream"));
  Watcher again = open();
  EXPECT_TRUE(again.reader->Read(&event));
  for (Watcher* w : {&open_ones.back(), &again}) {
    w->context->TryCancel();
    w->reader->Finish();
  }
}

// A client that pings an idle Watch stream as often as the server permits keeps it: without the
// server's explicit permission (gRPC's default is one ping per 5 minutes without data), the
// third early ping gets the connection closed with GOAWAY "too_many_pings".
TEST_F(ControlLimitsTest, WatchClientsMayPingAsOftenAsTheServerPermits) {
  ControlLimits limits;
  limits.min_client_ping_interval = absl::Milliseconds(100);
  Start(limits);
  grpc::ChannelArguments args;
  args.SetInt(GRPC_ARG_KEEPALIVE_TIME_MS, 150);
  args.SetInt(GRPC_ARG_KEEPALIVE_TIMEOUT_MS, 5000);
  args.SetInt(GRPC_ARG_HTTP2_MAX_PINGS_WITHOUT_DATA, 0);
  auto stub = v1::ControlPlane::NewStub(
      grpc::CreateCustomChannel(address_, grpc::InsecureChannelCredentials(), args));
  grpc::ClientContext context;
  // The deadline is how long the idle stream is exposed to pings: gRPC sends one a second at most,
  // and the server tolerates two early ones.
  context.set_deadline(std::chrono::system_clock::now() + milliseconds(4500));
  auto reader = stub->Watch(&context, v1::WatchRequest());
  v1::VersionEvent event;
  ASSERT_TRUE(reader->Read(&event));
  while (reader->Read(&event)) {
  }
  grpc::Status status = reader->Finish();
  EXPECT_EQ(status.error_code(), grpc::StatusCode::DEADLINE_EXCEEDED) << status.error_message();
}

// ---- Exceptions in handlers ----

TEST_F(ControlLimitsTest, AnExceptionInAHandlerIsInternalAndTheServerAnswersOn) {
  Start();
  target_.set_throw(true);
  v1::GetStatsResponse stats;  // runs on the task thread: an escape would end the process
  auto context = Context();
  grpc::Status status = stub_->GetStats(context.get(), v1::GetStatsRequest(), &stats);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INTERNAL);
  EXPECT_THAT(status.error_message(), HasSubstr("stats exploded"));

  v1::ExplainRequest request;  // runs on a gRPC thread: an escape would be UNIMPLEMENTED
  v1::ExplainResponse response;
  auto explain = Context();
  status = stub_->Explain(explain.get(), request, &response);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INTERNAL);
  EXPECT_THAT(status.error_message(), HasSubstr("current exploded"));

  target_.set_throw(false);
  EXPECT_TRUE(Drain().ok());
  auto after = Context();
  EXPECT_TRUE(stub_->Explain(after.get(), request, &response).ok());
}

}  // namespace
}  // namespace rwproxy::control
