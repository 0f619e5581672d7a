// Guarded applies against real processes (issue #11): rwproxy with two rwupstreams ("app" answers
// 200, "bad" answers 500), steady client load on /api/ and /web/ (3:2), and applies over gRPC
// with a guard. A good config is kept; a route sent to the failing cluster and a config that
// loses the /web/ route (40% no-route 404s) are reverted within the window and traffic recovers
// (the seconds of bad traffic the clients saw are printed); too little traffic keeps the config
// and says why; the applying client going away does not stop a revert; a newer apply supersedes.
#include <signal.h>

#include <fstream>

#include <atomic>
#include <chrono>
#include <fstream>
#include <iostream>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "config/config_yaml.h"
#include "grpcpp/grpcpp.h"
#include "gtest/gtest.h"
#include "proto/control.grpc.pb.h"
#include "tests/integration/integration_fixture.h"

namespace rwtest {
namespace {

namespace v1 = rwproxy::control::v1;
using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;

// API_CLUSTER: where /api/ goes; WEB_ROUTE: the /web/ route, or nothing; TAG makes configs differ.
constexpr char kTemplate[] = R"yaml(
clusters:
  - name: app
    endpoints: ["{{app}}"]
  - name: bad
    endpoints: ["{{bad}}"]
routes:
  - name: tag
    match: {path_exact: /tag-TAG}
    respond: {status: 200}
  - name: api
    match: {path_prefix: /api/}
    cluster: API_CLUSTER
WEB_ROUTE)yaml";
constexpr char kWebRoute[] = R"yaml(  - name: web
    match: {path_prefix: /web/}
    cluster: app
)yaml";

std::string Yaml(const std::string& tag, const std::string& api_cluster = "app", bool web = true) {
  return absl::StrReplaceAll(
      kTemplate, {{"TAG", tag}, {"API_CLUSTER", api_cluster}, {"WEB_ROUTE", web ? kWebRoute : ""}});
}

// Client threads on keep-alive connections sending GET /api/N and /web/N (3:2), each pausing
// `gap` between requests (load shape only); they note when they saw errors (5xx, 404).
class MixLoad {
 public:
  MixLoad(uint16_t port, int clients, milliseconds gap) : start_(Clock::now()) {
    for (int i = 0; i < clients; ++i) {
      threads_.emplace_back([this, port, gap, i] {
        std::unique_ptr<HttpConnection> conn;
        for (int n = i; !stop_.load(); ++n) {
          if (conn == nullptr) {
            auto c = HttpConnection::Connect(port, milliseconds(5000));
            if (!c.ok()) continue;
            conn = std::move(*c);
          }
          const std::string target =
              n % 5 < 3 ? absl::StrCat("/api/", n) : absl::StrCat("/web/", n);
          auto res = conn->Send("GET", target);
          const int status = res.ok() ? res->status : 0;
          if (!res.ok() || !res->keep_alive) conn.reset();
          Note(status);
          if (gap.count() > 0) std::this_thread::sleep_for(gap);
        }
      });
    }
  }
  ~MixLoad() { Stop(); }
  void Stop() {
    stop_ = true;
    for (auto& t : threads_) t.join();
    threads_.clear();
  }
  int64_t done() const { return done_.load(); }
  int64_t errors() const { return errors_.load(); }
  // Waits until `n` more requests than now have completed.
  ::testing::AssertionResult RunFor(int64_t n) {
    const int64_t target = done() + n;
    return WaitFor([&] { return done() >= target; }, milliseconds(10000),
                   absl::StrCat(target, " requests done"));
  }
  // Seconds from the first error to the last one (0 without errors).
  double BadSeconds() const {
    std::lock_guard<std::mutex> lock(mu_);
    if (errors_.load() == 0) return 0;
    return std::chrono::duration<double>(last_error_ - first_error_).count();
  }
  std::string Describe() const {
    std::lock_guard<std::mutex> lock(mu_);
    std::string out = absl::StrCat(done_.load(), " requests:");
    for (const auto& [status, count] : by_status_) absl::StrAppend(&out, " ", status, "x", count);
    return out;
  }

 private:
  void Note(int status) {
    ++done_;
    const bool error = status == 0 || status >= 500 || status == 404;
    std::lock_guard<std::mutex> lock(mu_);
    ++by_status_[status];
    if (!error) return;
    const auto now = Clock::now();
    if (errors_.fetch_add(1) == 0) first_error_ = now;
    last_error_ = now;
  }

  const Clock::time_point start_;
  std::atomic<bool> stop_{false};
  std::atomic<int64_t> done_{0};
  std::atomic<int64_t> errors_{0};
  mutable std::mutex mu_;
  std::map<int, int64_t> by_status_;
  Clock::time_point first_error_, last_error_;
  std::vector<std::thread> threads_;
};

class GuardTest : public IntegrationTest {
 protected:
  void SetUp() override {
    RW_ASSERT_OK(env_.StartUpstream("app"));
    RW_ASSERT_OK(env_.StartUpstream("bad"));
    RW_ASSERT_OK(env_.SetUpstream("bad", "status=500"));
    RW_ASSERT_OK(env_.StartProxy(Yaml("boot")));
  }

  std::unique_ptr<v1::ControlPlane::Stub> NewStub() {
    return v1::ControlPlane::NewStub(grpc::CreateChannel(
        absl::StrCat("127.0.0.1:", env_.control_port()), grpc::InsecureChannelCredentials()));
  }
  v1::ControlPlane::Stub& Stub() {
    if (stub_ == nullptr) stub_ = NewStub();
    return *stub_;
  }
  static std::unique_ptr<grpc::ClientContext> Context() {
    auto context = std::make_unique<grpc::ClientContext>();
    context->set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(20));
    return context;
  }

  // Applies `yaml` with a guard (duration "" = none) through `stub`; the response.
  v1::ApplyResponse Apply(v1::ControlPlane::Stub& stub, const std::string& yaml,
                          const std::string& duration, uint64_t min_requests = 50) {
    v1::ApplyRequest request;
    std::vector<rwproxy::yaml::YamlError> errors;
    EXPECT_TRUE(
        rwproxy::yaml::ParseConfig(env_.Expand(yaml), request.mutable_config(), nullptr, &errors));
    if (!duration.empty()) {
      request.mutable_guard()->set_duration(duration);
      request.mutable_guard()->set_min_requests(min_requests);
    }
    v1::ApplyResponse response;
    auto context = Context();
    grpc::Status status = stub.Apply(context.get(), request, &response);
    EXPECT_TRUE(status.ok()) << status.error_message();
    return response;
  }

  std::vector<v1::VersionInfo> History() {
    v1::ListVersionsResponse response;
    auto context = Context();
    grpc::Status status = Stub().ListVersions(context.get(), {}, &response);
    EXPECT_TRUE(status.ok()) << status.error_message();
    return {response.versions().begin(), response.versions().end()};
  }
  v1::VersionInfo Info(uint64_t version) {
    for (const auto& info : History()) {
      if (info.version() == version) return info;
    }
    return {};
  }
  // Waits (with a deadline) for `version`'s verdict; returns its info.
  v1::VersionInfo WaitForVerdict(uint64_t version, milliseconds timeout = milliseconds(10000)) {
    v1::VersionInfo info;
    EXPECT_TRUE(WaitFor(
        [&] {
          info = Info(version);
          return info.guard().outcome() != v1::GuardVerdict::PENDING &&
                 info.guard().outcome() != v1::GuardVerdict::NONE;
        },
        timeout, absl::StrCat("a verdict for version ", version)))
        << env_.Logs();
    return info;
  }
  int64_t Counter(const std::string& name) {
    auto value = env_.Counter(name);
    EXPECT_TRUE(value.ok()) << value.status();
    return value.ok() ? *value : -1;
  }

  std::unique_ptr<v1::ControlPlane::Stub> stub_;
};

TEST_F(GuardTest, AGoodConfigUnderLoadIsKept) {
  MixLoad load(env_.proxy_port(), 3, milliseconds(1));
  ASSERT_TRUE(load.RunFor(200));
  const v1::ApplyResponse applied = Apply(Stub(), Yaml("good"), "2s");
  ASSERT_EQ(applied.guard().outcome(), v1::GuardVerdict::PENDING);
  EXPECT_EQ(applied.guard().duration(), "2s");
  const v1::VersionInfo info = WaitForVerdict(applied.version());
  load.Stop();
  EXPECT_EQ(info.guard().outcome(), v1::GuardVerdict::KEPT) << info.guard().reason();
  EXPECT_GE(info.guard().requests(), 50u);
  EXPECT_EQ(info.guard().errors(), 0u);
  EXPECT_GE(info.guard().elapsed_ms(), 2000);
  EXPECT_TRUE(info.guard().reason().ends_with("; kept")) << info.guard().reason();
  EXPECT_EQ(History().front().version(), applied.version());  // still live
  EXPECT_EQ(load.errors(), 0) << load.Describe();
  EXPECT_EQ(Counter("server.guard_kept_total"), 1);
  EXPECT_EQ(Counter("server.guard_reverted_total"), 0);
}

TEST_F(GuardTest, ARouteSentToAFailingClusterIsRevertedAndTrafficRecovers) {
  MixLoad load(env_.proxy_port(), 3, milliseconds(1));
  ASSERT_TRUE(load.RunFor(200));
  const auto applied_at = Clock::now();
  const v1::ApplyResponse applied = Apply(Stub(), Yaml("bad500", "bad"), "4s");
  const v1::VersionInfo info = WaitForVerdict(applied.version());
  const double to_verdict = std::chrono::duration<double>(Clock::now() - applied_at).count();
  ASSERT_EQ(info.guard().outcome(), v1::GuardVerdict::REVERTED) << info.guard().reason();
  EXPECT_LT(info.guard().elapsed_ms(), 4000);  // early: within the window
  EXPECT_EQ(info.guard().top_error_kind(), "upstream 5xx");
  EXPECT_EQ(info.guard().top_error_route(), "api");
  EXPECT_EQ(info.guard().restored_version(), applied.version() - 1);
  EXPECT_EQ(info.guard().revert_version(), applied.version() + 1);
  const v1::VersionInfo live = History().front();
  EXPECT_EQ(live.version(), applied.version() + 1);
  EXPECT_EQ(live.source(), "guard");
  EXPECT_TRUE(live.description().starts_with(
      absl::StrCat("guard: version ", applied.version(), " reverted after ")))
      << live.description();
  // Traffic recovers: the next requests all succeed.
  const int64_t errors = load.errors();
  ASSERT_TRUE(load.RunFor(300));
  load.Stop();
  EXPECT_EQ(load.errors(), errors) << load.Describe();
  EXPECT_GT(errors, 0);
  std::cout << "[guard] 500s: " << load.BadSeconds() << " s of bad traffic (first to last 5xx), "
            << "verdict after " << info.guard().elapsed_ms() / 1000.0 << " s (seen by the test "
            << to_verdict << " s); " << info.guard().reason() << "; " << load.Describe()
            << std::endl;
  EXPECT_LT(load.BadSeconds(), 4.0);
  EXPECT_EQ(Counter("server.guard_reverted_total"), 1);
}

TEST_F(GuardTest, FortyPercentNoRouteIsReverted) {
  MixLoad load(env_.proxy_port(), 3, milliseconds(1));
  ASSERT_TRUE(load.RunFor(200));
  const v1::ApplyResponse applied = Apply(Stub(), Yaml("noweb", "app", /*web=*/false), "4s");
  const v1::VersionInfo info = WaitForVerdict(applied.version());
  ASSERT_EQ(info.guard().outcome(), v1::GuardVerdict::REVERTED) << info.guard().reason();
  EXPECT_EQ(info.guard().top_error_kind(), "no route");
  EXPECT_NEAR(info.guard().error_ratio(), 0.4, 0.1);
  EXPECT_EQ(info.guard().previous_errors(), 0u);
  const int64_t errors = load.errors();
  ASSERT_TRUE(load.RunFor(300));
  load.Stop();
  EXPECT_EQ(load.errors(), errors) << load.Describe();
  std::cout << "[guard] no route: " << load.BadSeconds() << " s of bad traffic; "
            << info.guard().reason() << "; " << load.Describe() << std::endl;
  EXPECT_LT(load.BadSeconds(), 4.0);
}

TEST_F(GuardTest, TooLittleTrafficKeepsTheConfigAndSaysWhy) {
  // A few requests only, all failing (the route goes to the failing cluster).
  const v1::ApplyResponse applied = Apply(Stub(), Yaml("quiet", "bad"), "2s", /*min=*/50);
  auto conn = HttpConnection::Connect(env_.proxy_port());
  ASSERT_TRUE(conn.ok());
  for (int i = 0; i < 5; ++i) {
    auto res = (*conn)->Send("GET", "/api/x");
    ASSERT_TRUE(res.ok());
    EXPECT_EQ(res->status, 500);
  }
  const v1::VersionInfo info = WaitForVerdict(applied.version());
  EXPECT_EQ(info.guard().outcome(), v1::GuardVerdict::KEPT);
  EXPECT_EQ(info.guard().reason(), "too few requests: 5 < 50; kept");
  EXPECT_EQ(info.guard().errors(), 5u);
  EXPECT_EQ(History().front().version(), applied.version());
}

TEST_F(GuardTest, TheRevertHappensAfterTheApplyingClientWentAway) {
  MixLoad load(env_.proxy_port(), 3, milliseconds(1));
  ASSERT_TRUE(load.RunFor(100));
  uint64_t version = 0;
  {
    auto stub = NewStub();  // its own channel, closed below: the client is gone
    version = Apply(*stub, Yaml("gone", "bad"), "4s").version();
  }
  const v1::VersionInfo info = WaitForVerdict(version);
  load.Stop();
  EXPECT_EQ(info.guard().outcome(), v1::GuardVerdict::REVERTED) << info.guard().reason();
  EXPECT_EQ(History().front().source(), "guard");
}

// The same with rwctl itself: `rwctl apply --guard` waiting for the verdict is killed (SIGKILL,
// by pid) right after its apply went through; the server still reverts.
TEST_F(GuardTest, TheRevertHappensAfterRwctlWaitingForTheVerdictIsKilled) {
  MixLoad load(env_.proxy_port(), 3, milliseconds(1));
  ASSERT_TRUE(load.RunFor(100));
  const uint64_t before = History().front().version();
  const std::string file = env_.dir() + "/killed.yaml";
  std::ofstream(file) << env_.Expand(Yaml("killed", "bad"));
  auto rwctl = Process::Spawn(
      RWCTL_BIN,
      {"--server", absl::StrCat("127.0.0.1:", env_.control_port()), "apply", file, "--guard", "4s",
       "--min-requests", "50"},
      env_.dir() + "/rwctl.log");
  RW_ASSERT_OK(rwctl);
  ASSERT_TRUE(WaitFor([&] { return History().front().version() == before + 1; },
                      milliseconds(10000), "rwctl's apply"));
  ASSERT_TRUE(rwctl->Alive()) << "rwctl should still be waiting for the verdict";
  ASSERT_EQ(::kill(rwctl->pid(), SIGKILL), 0);
  rwctl->Stop();  // reaps it
  const v1::VersionInfo info = WaitForVerdict(before + 1);
  load.Stop();
  EXPECT_EQ(info.guard().outcome(), v1::GuardVerdict::REVERTED) << info.guard().reason();
  EXPECT_EQ(History().front().source(), "guard");
}

TEST_F(GuardTest, ANewerApplySupersedesThePendingGuard) {
  MixLoad load(env_.proxy_port(), 2, milliseconds(2));
  const v1::ApplyResponse first = Apply(Stub(), Yaml("first"), "30s");
  ASSERT_EQ(first.guard().outcome(), v1::GuardVerdict::PENDING);
  ASSERT_TRUE(load.RunFor(50));
  const v1::ApplyResponse second = Apply(Stub(), Yaml("second"), "");
  EXPECT_EQ(second.guard().outcome(), v1::GuardVerdict::NONE);
  const v1::VersionInfo info = WaitForVerdict(first.version(), milliseconds(3000));
  load.Stop();
  EXPECT_EQ(info.guard().outcome(), v1::GuardVerdict::SUPERSEDED);
  EXPECT_TRUE(
      info.guard().reason().starts_with(absl::StrCat("superseded by version ", second.version())))
      << info.guard().reason();
  EXPECT_EQ(Counter("server.guard_superseded_total"), 1);
  EXPECT_EQ(Counter("server.guard_pending"), 0);
}

}  // namespace
}  // namespace rwtest
