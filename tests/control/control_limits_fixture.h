// Shared by the control limits tests: a fake data plane whose Publish can be held (a wedged
// worker) and whose reads can throw, a ControlServer over it with chosen ControlLimits, a client
// whose metadata limit is gRPC's default 8 KiB, and asynchronous calls to queue behind a held one.
//
// Ownership: gtest owns the fixture; the fixture owns the server, the store and the fake.
// Thread-safety: the test thread; the fake is called from the service's threads too (a mutex).
#ifndef RWPROXY_TESTS_CONTROL_CONTROL_LIMITS_FIXTURE_H_
#define RWPROXY_TESTS_CONTROL_CONTROL_LIMITS_FIXTURE_H_

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <future>
#include <memory>
#include <mutex>
#include <stdexcept>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "tests/control/control_service_fixture.h"
#include "tests/support/wait.h"

namespace rwproxy::control {

using std::chrono::milliseconds;

// A fake data plane whose Publish can be held until the test releases it (a wedged worker), and
// whose CollectStats / current() can be made to throw.
class BlockingTarget : public FakeConfigTarget {
 public:
  absl::Status Publish(std::shared_ptr<const Snapshot> snapshot, absl::Duration timeout) override {
    {
      std::unique_lock<std::mutex> lock(mu_);
      ++entered_;
      cv_.notify_all();
      cv_.wait(lock, [this] { return !blocked_; });
    }
    return FakeConfigTarget::Publish(std::move(snapshot), timeout);
  }
  StatsSnapshot CollectStats() override {
    if (throw_) throw std::runtime_error("stats exploded");
    return FakeConfigTarget::CollectStats();
  }
  std::shared_ptr<const Snapshot> current() const override {
    if (throw_) throw std::logic_error("current exploded");
    return FakeConfigTarget::current();
  }

  void Block() {
    std::lock_guard<std::mutex> lock(mu_);
    blocked_ = true;
  }
  void Release() {
    std::lock_guard<std::mutex> lock(mu_);
    blocked_ = false;
    cv_.notify_all();
  }
  // Waits until `n` Publish calls have begun in all.
  bool WaitEntered(int n) {
    std::unique_lock<std::mutex> lock(mu_);
    return cv_.wait_for(lock, std::chrono::seconds(10), [&] { return entered_ >= n; });
  }
  void set_throw(bool on) { throw_ = on; }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  bool blocked_ = false;
  int entered_ = 0;
  std::atomic<bool> throw_{false};
};

// One asynchronous call; `result` is ready when the client sees it end.
template <class Request, class Response>
struct Pending {
  grpc::ClientContext context;
  Request request;
  Response response;
  std::promise<grpc::Status> done;
  std::future<grpc::Status> result = done.get_future();
};

// A client context with a deadline, so that a broken server fails the test instead of hanging.
inline std::unique_ptr<grpc::ClientContext> Context() {
  auto context = std::make_unique<grpc::ClientContext>();
  context->set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(20));
  return context;
}

// Waits for a pending call to end on the client side.
template <class P>
grpc::Status Await(P& pending) {
  if (pending.result.wait_for(std::chrono::seconds(20)) != std::future_status::ready) {
    ADD_FAILURE() << "the call did not end within 20s";
    pending.context.TryCancel();
  }
  return pending.result.get();
}

class ControlLimitsTest : public ::testing::Test {
 protected:
  ~ControlLimitsTest() override {
    target_.Release();  // a held Publish would keep the task thread (and Shutdown) waiting
    server_.Shutdown();
  }

  void Start(ControlLimits limits = {}) {
    ASSERT_TRUE(store_.Apply(Parse(kConfig), {.description = "initial"}).ok());
    auto address = server_.Start(
        "127.0.0.1:0", "", [](const std::string&) {}, limits);
    ASSERT_TRUE(address.ok()) << address.status();
    address_ = *address;
    grpc::ChannelArguments args;
    args.SetMaxReceiveMessageSize(64 << 20);
    args.SetMaxSendMessageSize(64 << 20);
    // gRPC's default, stated: the limit every trailer of a rejection must fit.
    args.SetInt(GRPC_ARG_MAX_METADATA_SIZE, 8 * 1024);
    stub_ = v1::ControlPlane::NewStub(
        grpc::CreateCustomChannel(*address, grpc::InsecureChannelCredentials(), args));
  }

  // kConfig with the api route's rewrite changed: a new version when applied.
  static Config Variant(const std::string& tag) {
    return Parse(absl::StrReplaceAll(kConfig, {{"/v2/$1", absl::StrCat("/", tag, "/$1")}}));
  }

  std::unique_ptr<Pending<v1::ApplyRequest, v1::ApplyResponse>> StartApply(const Config& config,
                                                                           milliseconds deadline) {
    auto p = std::make_unique<Pending<v1::ApplyRequest, v1::ApplyResponse>>();
    p->context.set_deadline(std::chrono::system_clock::now() + deadline);
    *p->request.mutable_config() = config;
    stub_->async()->Apply(&p->context, &p->request, &p->response,
                          [raw = p.get()](grpc::Status s) { raw->done.set_value(std::move(s)); });
    return p;
  }

  std::unique_ptr<Pending<v1::ValidateRequest, v1::ValidateResponse>> StartValidate() {
    auto p = std::make_unique<Pending<v1::ValidateRequest, v1::ValidateResponse>>();
    p->context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(20));
    *p->request.mutable_config() = Parse(kConfig);
    stub_->async()->Validate(
        &p->context, &p->request, &p->response,
        [raw = p.get()](grpc::Status s) { raw->done.set_value(std::move(s)); });
    return p;
  }

  // Waits until `n` calls wait for the task thread.
  ::testing::AssertionResult WaitQueued(size_t n) {
    return rwtest::WaitFor([&] { return server_.service()->QueuedCalls() == n; },
                           std::chrono::seconds(10), absl::StrCat(n, " queued calls"));
  }

  // A call through the task thread: when it returns, every call queued before it has ended.
  grpc::Status Drain() {
    v1::GetStatsResponse stats;
    auto context = Context();
    return stub_->GetStats(context.get(), v1::GetStatsRequest(), &stats);
  }

  BlockingTarget target_;
  ConfigStore store_{&target_, {}};
  ControlServer server_{&store_, &target_};
  std::unique_ptr<v1::ControlPlane::Stub> stub_;
  std::string address_;
};

}  // namespace rwproxy::control

#endif  // RWPROXY_TESTS_CONTROL_CONTROL_LIMITS_FIXTURE_H_
