// Upstream resilience against real processes (issue #8), traffic side: a 90/10 weighted split
// over 10,000 requests, the retry budget under a failure storm, and a live config change that
// keeps endpoint state and warm pooled connections.
#include "tests/integration/resilience_fixture.h"

namespace rwtest {
namespace {

constexpr char kSplitConfig[] = R"yaml(
clusters:
  - name: blue
    endpoints: ["{{blue}}"]
  - name: green
    endpoints: ["{{green}}"]
routes:
  - name: split
    match: {path_prefix: /}
    backends: [{cluster: blue, weight: 90}, {cluster: green, weight: 10}]
)yaml";

TEST_F(ResilienceTest, NinetyTenSplitOverTenThousandRequests) {
  ASSERT_NO_FATAL_FAILURE(Start({"blue", "green"}, kSplitConfig, {"--seed", "1"}));
  const int64_t blue0 = Requests("blue"), green0 = Requests("green");
  constexpr int64_t kRequests = 10000;
  Load load(env_.proxy_port(), "/split", 4, kRequests, milliseconds(50000));
  ASSERT_TRUE(
      WaitFor([&] { return load.done() >= kRequests; }, milliseconds(50000), "10000 requests"));
  const Tally tally = load.Stop();
  ASSERT_EQ(tally.ok, kRequests) << tally.Describe();
  const int64_t blue = tally.From("blue");
  const int64_t green = tally.From("green");
  EXPECT_EQ(blue + green, kRequests);
  const double blue_pct = 100.0 * blue / kRequests;
  std::cout << "[resilience] split: blue " << blue << " (" << blue_pct << "%), green " << green
            << "\n";
  Report("split_blue", blue);
  Report("split_green", green);
  EXPECT_NEAR(blue_pct, 90.0, 1.5);
  // The proxy's per-backend counters agree with what the upstreams saw.
  EXPECT_EQ(Counter("route.split.backend.blue.rq_total"), blue);
  EXPECT_EQ(Counter("route.split.backend.green.rq_total"), green);
  EXPECT_EQ(Requests("blue") - blue0, blue);
  EXPECT_EQ(Requests("green") - green0, green);
}

// ---- 9. Retry budget ---------------------------------------------------------------------------

constexpr char kBudgetConfig[] = R"yaml(
clusters:
  - name: app
    endpoints: ["{{a}}", "{{b}}"]
    retry_budget: BUDGET
    circuit_breakers: {max_retries: 1000}
routes:
  - name: api
    match: {path_prefix: /}
    cluster: app
    timeout: 5s
    retry: {on: [retriable-status-codes], status_codes: [503], max: 2, backoff: {base: 1ms, max: 1ms}}
)yaml";

struct BudgetRun {
  int64_t requests = 0;
  int64_t retries = 0;
  int64_t overflow = 0;
  int64_t upstream_requests = 0;  // what the upstreams counted
  double seconds = 0;
};

class RetryBudgetTest : public ResilienceTest {
 protected:
  // Both endpoints answer 503; `n` requests from 4 clients (or, with `duration`, 2 paced clients
  // for that long).
  BudgetRun Run(const std::string& budget, int64_t n, milliseconds duration = milliseconds(0)) {
    BudgetRun run;
    Start({"a", "b"}, absl::StrReplaceAll(kBudgetConfig, {{"BUDGET", budget}}));
    if (HasFatalFailure()) return run;
    EXPECT_TRUE(env_.SetUpstream("a", "status=503").ok());
    EXPECT_TRUE(env_.SetUpstream("b", "status=503").ok());
    const int64_t before = Requests("a") + Requests("b");
    const auto start = Clock::now();
    Tally tally;
    if (duration.count() > 0) {
      tally = Load(env_.proxy_port(), "/budget", 2, n, duration, milliseconds(5)).Wait();
    } else {
      Load load(env_.proxy_port(), "/budget", 4, n);
      EXPECT_TRUE(WaitFor([&] { return load.done() >= n; }, milliseconds(30000), "all requests"));
      tally = load.Stop();
      EXPECT_EQ(tally.total, n);
    }
    run.seconds = MsSince(start) / 1000.0;
    EXPECT_EQ(tally.Status(503), tally.total) << tally.Describe();  // nothing to retry to
    run.requests = tally.total;
    run.retries = Counter("cluster.app.upstream_rq_retry");
    run.overflow = Counter("cluster.app.upstream_rq_retry_overflow");
    run.upstream_requests = Requests("a") + Requests("b") - before;
    Report("requests", run.requests);
    Report("upstream_rq_retry", run.retries);
    Report("upstream_rq_retry_overflow", run.overflow);
    Report("elapsed_ms", static_cast<int64_t>(run.seconds * 1000));
    // Every try reached an upstream: the first ones plus the retries.
    EXPECT_EQ(run.upstream_requests, run.requests + run.retries);
    EXPECT_EQ(Counter("cluster.app.upstream_rq_retry_success"), 0);
    return run;
  }
};

TEST_F(RetryBudgetTest, RatioCapsRetriesUnderAFailureStorm) {
  constexpr int64_t kN = 2000;
  const BudgetRun run = Run("{ratio: 0.2, min_per_second: 1}", kN);
  // At most 20% of the requests plus min_per_second (1/s, split over the 2 workers) per second.
  EXPECT_LE(run.retries, static_cast<int64_t>(0.2 * kN + 1 * (run.seconds + 1) + 2));
  EXPECT_GE(run.retries, static_cast<int64_t>(0.2 * kN) - 10) << "the budget's share is usable";
  EXPECT_GT(run.overflow, 0);
}

TEST_F(RetryBudgetTest, RatioOneAllowsOneRetryPerRequest) {
  constexpr int64_t kN = 1000;
  const BudgetRun run = Run("{ratio: 1.0, min_per_second: 0}", kN);
  EXPECT_LE(run.retries, kN);
  EXPECT_GE(run.retries, kN - 10);
  EXPECT_GT(run.overflow, 0);  // max: 2 wanted a second retry for each
}

// The floor alone (ratio 0): min_per_second retries per second, proxy-wide. With 4 over the 2
// workers, each worker has 2 a second.
TEST_F(RetryBudgetTest, MinPerSecondAloneIsAFloorOfRetriesPerSecond) {
  const BudgetRun run = Run("{ratio: 0.0, min_per_second: 4}", 1000000, milliseconds(2500));
  EXPECT_GE(run.retries, 4) << "at least two 1 s windows of one worker";
  EXPECT_LE(run.retries, static_cast<int64_t>(4 * (run.seconds + 1)));
  EXPECT_GT(run.overflow, run.retries);
}

// min_per_second smaller than the worker count: the proxy-wide floor of 1 retry a second must
// not vanish because each of the 2 workers gets 0.5 of it.
TEST_F(RetryBudgetTest, MinPerSecondBelowWorkerCountStillAllowsRetries) {
  const BudgetRun run = Run("{ratio: 0.0, min_per_second: 1}", 1000000, milliseconds(2500));
  EXPECT_GE(run.retries, 1)
      << "retry_budget.min_per_second: 1 with --workers 2 allowed no retry at all in "
      << static_cast<int64_t>(run.seconds * 1000)
      << " ms of steady 503s (expected about 1 a second): each worker's share (0.5) is below "
      << "one retry and must carry over from second to second";
  EXPECT_LE(run.retries, static_cast<int64_t>(1 * (run.seconds + 1) + 1));
}

TEST_F(RetryBudgetTest, WithoutBudgetPressureEveryRetryIsMade) {
  constexpr int64_t kN = 1000;
  const BudgetRun run = Run("{ratio: 1.0, min_per_second: 100000}", kN);
  EXPECT_EQ(run.retries, 2 * kN);
  EXPECT_EQ(run.overflow, 0);
}

// ---- 10. A live config change keeps endpoint state and warm connections -------------------------

constexpr char kLiveConfig[] = R"yaml(
clusters:
  - name: app
    endpoints: ["{{a}}", "{{b}}", "{{c}}"]
    health_check: {path: /healthz, interval: INTERVAL, timeout: 100ms, unhealthy_threshold: 2, healthy_threshold: 2}
    outlier_detection: {consecutive_5xx: FIVExx, base_ejection_time: EJECTION, max_ejection_percent: 50}
routes:
  - name: probe
    match: {path_exact: /probe}
    respond: {status: 200, body: "PROBE\n"}
  - name: api
    match: {path_prefix: /}
    cluster: app
    timeout: 5s
)yaml";

std::string LiveConfig(const std::string& version, const std::string& interval,
                       const std::string& five_xx, const std::string& ejection) {
  return absl::StrReplaceAll(
      kLiveConfig,
      {{"PROBE", version}, {"INTERVAL", interval}, {"FIVExx", five_xx}, {"EJECTION", ejection}});
}

TEST_F(ResilienceTest, LiveChangeOfCheckAndOutlierSettingsKeepsStateAndWarmConnections) {
  ASSERT_NO_FATAL_FAILURE(
      Start({"a", "b", "c"}, LiveConfig("v1", "100ms", "3", "30s"), {"--watch-config"}));
  // `a` fails its checks, `c` answers 503 until ejected: only `b` is left.
  RW_ASSERT_OK(env_.SetUpstream("a", "health=503"));
  ASSERT_TRUE(HealthBecomes("a", {"unhealthy"}));
  RW_ASSERT_OK(env_.SetUpstream("c", "status=503"));
  Client client(env_.proxy_port());
  ASSERT_TRUE(WaitFor(
      [&] {
        client.Get("/eject-c");
        return Endpoint("c").health == "ejected";
      },
      milliseconds(3000), "c ejected"));
  client.TakeTally();
  for (int i = 0; i < 5; ++i) client.Get("/warm");
  const Tally warm = client.TakeTally();
  ASSERT_EQ(warm.From("b"), 5) << warm.Describe();
  const EndpointHealth a_before = Endpoint("a");
  const EndpointHealth c_before = Endpoint("c");
  const int64_t cx_before = Counter("cluster.app.upstream_cx_total");
  const int64_t b_connections_before = UpstreamCount("connections", "b");
  const int64_t version_before = Counter("server.config_version");

  // New check interval, threshold and ejection time.
  ASSERT_NO_FATAL_FAILURE(RewriteConfig(LiveConfig("v2", "150ms", "4", "20s")));
  ASSERT_TRUE(WaitFor(
      [&] {
        auto res = Get("/probe");
        return res.ok() && res->body == "v2\n";
      },
      milliseconds(5000), "config v2 applied"));
  EXPECT_GT(Counter("server.config_version"), version_before);

  const EndpointHealth a_after = Endpoint("a");
  const EndpointHealth c_after = Endpoint("c");
  EXPECT_EQ(a_after.health, "unhealthy");
  EXPECT_EQ(a_after.since_unix_ms, a_before.since_unix_ms) << "a's state was reset by the apply";
  EXPECT_EQ(c_after.health, "ejected");
  EXPECT_EQ(c_after.ejections, 1);
  EXPECT_EQ(c_after.since_unix_ms, c_before.since_unix_ms) << "c's ejection was reset";
  const int64_t a0 = Requests("a"), c0 = Requests("c");
  for (int i = 0; i < 20; ++i) client.Get("/after-apply");
  const Tally after = client.TakeTally();
  EXPECT_EQ(after.ok, 20) << after.Describe();
  EXPECT_EQ(after.From("b"), 20) << after.Describe();
  EXPECT_EQ(Requests("a"), a0);
  EXPECT_EQ(Requests("c"), c0);
  // The warm pooled connection to `b` served the requests after the apply too.
  EXPECT_EQ(after.conns, warm.conns) << "new upstream connections after the apply";
  EXPECT_EQ(Counter("cluster.app.upstream_cx_total"), cx_before);
  Report("b_connections_delta", UpstreamCount("connections", "b") - b_connections_before);
  EXPECT_EQ(Endpoint("a").health, "unhealthy");
}

}  // namespace
}  // namespace rwtest
