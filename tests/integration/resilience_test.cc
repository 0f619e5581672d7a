// Upstream resilience against real processes (issue #8): an endpoint killed under load (retries,
// outlier ejection), ejections that double, per-try timeouts, slow endpoints, active health
// checks and panic mode. The weighted split, the retry budget and live changes are in
// resilience_traffic_test.cc, DNS refresh in resilience_dns_test.cc.
//
// Figures worth a look (errors before ejection without retries, retries) are printed and
// recorded with RecordProperty.
#include "tests/integration/resilience_fixture.h"

namespace rwtest {
namespace {

constexpr char kKillConfig[] = R"yaml(
clusters:
  - name: app
    endpoints: ["{{a}}", "{{b}}", "{{c}}"]
    outlier_detection: {consecutive_5xx: 3, consecutive_connect_failures: 2, base_ejection_time: 1s, max_ejection_percent: 50}
    circuit_breakers: {max_retries: 64}
routes:
  - name: api
    match: {path_prefix: /}
    cluster: app
    timeout: 5s
RETRY
)yaml";

// Kills `c` (SIGKILL) while 4 clients send requests; returns what they saw and the errors seen
// until the ejection was observed. `through_return`: the load goes on until the ejection (1 s)
// has ended and `c`, still dead, has been ejected again.
void KillUnderLoad(ProxyHarness& env, Tally* tally, int64_t* errors_before_ejection,
                   EndpointHealth* killed, bool through_return) {
  Load load(env.proxy_port(), "/work", 4, 1000000);
  ASSERT_TRUE(load.RunFor(400));  // warm: pooled connections to all three
  RW_ASSERT_OK(env.KillUpstream("c"));
  const auto killed_at = Clock::now();
  // The killed endpoint leaves the rotation (ejected by outlier detection).
  bool ejected = false;
  auto wait = WaitFor(
      [&] {
        auto status = env.Cluster("app");
        const EndpointHealth* e = status.ok() ? status->Find(env.address("c")) : nullptr;
        if (e != nullptr) *killed = *e;
        ejected = e != nullptr && (e->health == "ejected" || e->health == "unhealthy");
        return ejected;
      },
      milliseconds(5000), "killed endpoint ejected or unhealthy");
  *errors_before_ejection = load.errors();
  std::cout << "[resilience] ejection seen " << MsSince(killed_at) << " ms after the kill\n";
  EXPECT_TRUE(wait) << "last health " << killed->health;
  if (through_return) {
    EXPECT_TRUE(WaitFor(
        [&] {
          auto status = env.Cluster("app");
          const EndpointHealth* e = status.ok() ? status->Find(env.address("c")) : nullptr;
          if (e != nullptr) *killed = *e;
          return e != nullptr && e->ejections >= 2 && e->health == "ejected";
        },
        milliseconds(5000), "killed endpoint back after 1 s and ejected again"))
        << "last health " << killed->health << " ejections " << killed->ejections;
    std::cout << "[resilience] ejected again " << MsSince(killed_at) << " ms after the kill\n";
  }
  // Steady load after the ejection.
  EXPECT_TRUE(load.RunFor(400));
  *tally = load.Stop();
}

TEST_F(ResilienceTest, KilledEndpointUnderLoadWithRetriesGivesNoClientErrors) {
  ASSERT_NO_FATAL_FAILURE(
      Start({"a", "b", "c"},
            absl::StrReplaceAll(kKillConfig, {{"RETRY",
                                               "    retry: {on: [connect-failure, reset], max: 2, "
                                               "backoff: {base: 1ms, max: 5ms}}"}})));
  Tally tally;
  int64_t errors_before = 0;
  EndpointHealth killed;
  ASSERT_NO_FATAL_FAILURE(KillUnderLoad(env_, &tally, &errors_before, &killed, true));
  Report("requests", tally.total);
  Report("client_errors", tally.errors());
  Report("upstream_rq_retry", Counter("cluster.app.upstream_rq_retry"));
  Report("upstream_rq_retry_success", Counter("cluster.app.upstream_rq_retry_success"));
  Report("upstream_rq_retry_overflow", Counter("cluster.app.upstream_rq_retry_overflow"));
  Report("upstream_rq_retry_stale", Counter("cluster.app.upstream_rq_retry_stale"));
  EXPECT_EQ(tally.errors(), 0) << tally.Describe();
  EXPECT_EQ(tally.ok, tally.total);
  EXPECT_GT(tally.total, 800);
  // The kill was absorbed by retries (connect failures at least, to reach the ejection).
  EXPECT_GE(Counter("cluster.app.upstream_rq_retry"), 1);
  EXPECT_GE(Counter("cluster.app.upstream_rq_retry_success"), 1);
  EXPECT_GE(Counter("cluster.app.outlier_ejections_total"), 2);  // again after its return
  EXPECT_NE(killed.reason.find("ejected for 2s"), std::string::npos) << killed.reason;
}

TEST_F(ResilienceTest, KilledEndpointUnderLoadWithoutRetriesIsEjected) {
  ASSERT_NO_FATAL_FAILURE(
      Start({"a", "b", "c"}, absl::StrReplaceAll(kKillConfig, {{"RETRY", ""}})));
  Tally tally;
  int64_t errors_before = 0;
  EndpointHealth killed;
  ASSERT_NO_FATAL_FAILURE(KillUnderLoad(env_, &tally, &errors_before, &killed, false));
  Report("requests", tally.total);
  Report("client_errors_before_ejection", errors_before);
  Report("client_errors_total", tally.errors());
  std::cout << "[resilience] without retries: " << tally.Describe() << "\n";
  EXPECT_EQ(killed.health, "ejected");
  EXPECT_EQ(killed.ejections, 1);
  // Connect failures, or resets of the requests in flight at the kill.
  EXPECT_NE(killed.reason.find("consecutive"), std::string::npos) << killed.reason;
  EXPECT_GE(Counter("cluster.app.outlier_ejections_total"), 1);
  EXPECT_EQ(Counter("cluster.app.upstream_rq_retry"), 0);
  // The control for the test above: without retries, the requests that found the dead endpoint
  // before its ejection (at least the 2 connect failures that caused it) fail.
  EXPECT_GE(tally.errors(), 1) << tally.Describe();
  // After the ejection every request is served (the ejection lasts 1 s).
  EXPECT_LE(tally.errors() - errors_before, 4) << tally.Describe();
}

// ---- 2. Ejection of a 503 endpoint; doubling --------------------------------------------------

constexpr char kOutlierConfig[] = R"yaml(
clusters:
  - name: app
    endpoints: ["{{a}}", "{{b}}"]
    outlier_detection: {consecutive_5xx: 3, base_ejection_time: 500ms, max_ejection_time: 10s, max_ejection_percent: 50}
routes:
  - name: api
    match: {path_prefix: /}
    cluster: app
    timeout: 5s
)yaml";

TEST_F(ResilienceTest, FailingEndpointIsEjectedForDoublingTimesAndComesBack) {
  ASSERT_NO_FATAL_FAILURE(Start({"a", "b"}, kOutlierConfig));
  RW_ASSERT_OK(env_.SetUpstream("a", "status=503"));
  Client client(env_.proxy_port());
  // Sends requests until `a` shows ejected with `level` ejections; returns that view.
  auto eject = [&](int64_t level, EndpointHealth* seen) {
    return WaitFor(
        [&] {
          for (int i = 0; i < 2; ++i) client.Get("/e");
          *seen = Endpoint("a");
          return seen->health == "ejected" && seen->ejections == level;
        },
        milliseconds(3000), absl::StrCat("a ejected, level ", level));
  };

  EndpointHealth first;
  ASSERT_TRUE(eject(1, &first)) << first.health << " " << first.ejections;
  EXPECT_NE(first.reason.find("3 consecutive 5xx; ejected for 500ms"), std::string::npos)
      << first.reason;
  EXPECT_GT(client.tally().by_status.count(503), 0u);  // no retry policy: the client saw them
  // While ejected, `a` gets nothing.
  const int64_t a_before = Requests("a");
  for (int i = 0; i < 10; ++i) EXPECT_EQ(client.Get("/while-ejected"), 200);
  EXPECT_EQ(Requests("a"), a_before);

  EndpointHealth back;
  ASSERT_TRUE(HealthBecomes("a", {"healthy"}, milliseconds(3000), &back));
  const int64_t first_ms = back.since_unix_ms - first.since_unix_ms;
  EXPECT_EQ(back.ejections, 1);  // the level is kept for a while after the return

  // Still failing, and ejected again within one ejection time of its return: twice as long.
  EndpointHealth second;
  ASSERT_TRUE(eject(2, &second)) << second.health << " " << second.ejections;
  EXPECT_NE(second.reason.find("ejected for 1s"), std::string::npos) << second.reason;
  RW_ASSERT_OK(env_.SetUpstream("a", "status=0"));  // it recovers while ejected
  ASSERT_TRUE(HealthBecomes("a", {"healthy"}, milliseconds(4000), &back));
  const int64_t second_ms = back.since_unix_ms - second.since_unix_ms;
  Report("first_ejection_ms", first_ms);
  Report("second_ejection_ms", second_ms);
  EXPECT_GE(first_ms, 450);
  EXPECT_GE(second_ms, 950);
  EXPECT_GE(second_ms, first_ms + 300) << "the second ejection should last about twice as long";
  EXPECT_EQ(Counter("cluster.app.outlier_ejections_total"), 2);

  // Back in the rotation, answering 200 again.
  client.TakeTally();
  for (int i = 0; i < 20; ++i) client.Get("/after");
  const Tally after = client.TakeTally();
  EXPECT_EQ(after.ok, 20) << after.Describe();
  EXPECT_GE(after.From("a"), 5) << after.Describe();
  EXPECT_EQ(Endpoint("a").health, "healthy");
}

// ---- 3. A hanging endpoint and per-try timeouts -----------------------------------------------

constexpr char kHangConfig[] = R"yaml(
clusters:
  - name: app
    endpoints: ["{{a}}", "{{b}}"]
routes:
  - name: retry
    match: {path_prefix: /r/}
    cluster: app
    timeout: 5s
    retry: {on: [reset], per_try_timeout: 300ms, max: 1, backoff: {base: 1ms, max: 2ms}}
  - name: tight
    match: {path_prefix: /t/}
    cluster: app
    timeout: 500ms
    retry: {on: [reset], per_try_timeout: 300ms, max: 1, backoff: {base: 1ms, max: 2ms}}
)yaml";

TEST_F(ResilienceTest, HangingEndpointIsCutByPerTryTimeoutAndRetriedElsewhere) {
  ASSERT_NO_FATAL_FAILURE(Start({"a", "b"}, kHangConfig));
  RW_ASSERT_OK(env_.SetUpstream("a", "hang=1"));
  Client client(env_.proxy_port());
  for (int i = 0; i < 6; ++i) {
    const auto start = Clock::now();
    EXPECT_EQ(client.Get(absl::StrCat("/r/", i)), 200) << client.tally().Describe();
    EXPECT_LT(MsSince(start), 2000);  // one per-try timeout at most, not the 5 s route timeout
  }
  const Tally seen = client.TakeTally();
  EXPECT_EQ(seen.by_upstream.count("a"), 0u) << seen.Describe();
  EXPECT_EQ(seen.ok, 6) << seen.Describe();
  const int64_t per_try = Counter("cluster.app.upstream_rq_per_try_timeout");
  Report("upstream_rq_per_try_timeout", per_try);
  EXPECT_GE(per_try, 2);  // round robin sent about every other first try to `a`
  EXPECT_EQ(Counter("cluster.app.upstream_rq_retry"), per_try);
  EXPECT_EQ(Counter("cluster.app.upstream_rq_retry_success"), per_try);

  // Both hang, and the route timeout (500 ms) is shorter than two tries (600 ms): 504.
  RW_ASSERT_OK(env_.SetUpstream("b", "hang=1"));
  const int64_t timeouts_before = Counter("cluster.app.upstream_rq_timeout");
  const auto start = Clock::now();
  EXPECT_EQ(client.Get("/t/late"), 504) << client.tally().Describe();
  const int64_t elapsed = MsSince(start);
  Report("route_timeout_504_ms", elapsed);
  EXPECT_GE(elapsed, 450);
  EXPECT_LT(elapsed, 1500);
  EXPECT_EQ(Counter("cluster.app.upstream_rq_per_try_timeout"), per_try + 1);
  EXPECT_EQ(Counter("cluster.app.upstream_rq_retry"), per_try + 1);
  EXPECT_EQ(Counter("cluster.app.upstream_rq_timeout"), timeouts_before + 1);
}

// ---- 4. A slow endpoint within the timeout ------------------------------------------------------

constexpr char kSlowConfig[] = R"yaml(
clusters:
  - name: app
    endpoints: ["{{a}}", "{{b}}"]
    outlier_detection: {consecutive_5xx: 3, base_ejection_time: 1s, max_ejection_percent: 50}
routes:
  - name: api
    match: {path_prefix: /api/}
    cluster: app
    timeout: 2s
  - name: short
    match: {path_prefix: /short/}
    cluster: app
    timeout: 50ms
)yaml";

TEST_F(ResilienceTest, SlowEndpointWithinTimeoutIsNotEjected) {
  ASSERT_NO_FATAL_FAILURE(Start({"a", "b"}, kSlowConfig));
  RW_ASSERT_OK(env_.SetUpstream("a", "delay_ms=200"));
  Client client(env_.proxy_port());
  for (int i = 0; i < 12; ++i) client.Get("/api/slow");
  const Tally slow = client.TakeTally();
  EXPECT_EQ(slow.ok, 12) << slow.Describe();
  EXPECT_GE(slow.From("a"), 5) << slow.Describe();  // slow, yet kept in the rotation
  EXPECT_EQ(Endpoint("a").health, "healthy");
  EXPECT_EQ(Counter("cluster.app.outlier_ejections_total"), 0);
  // Contrast: past the route timeout the same answers are failures, and `a` is ejected.
  for (int i = 0; i < 8; ++i) client.Get("/short/slow");
  const Tally late = client.TakeTally();
  EXPECT_GE(late.Status(504), 3) << late.Describe();
  EXPECT_TRUE(HealthBecomes("a", {"ejected"}, milliseconds(2000)));
}

// ---- 5. Active health checks
// ---------------------------------------------------------------------

constexpr char kHealthConfig[] = R"yaml(
clusters:
  - name: app
    endpoints: [ENDPOINTS]
    health_check: {path: /healthz, interval: 100ms, timeout: 100ms, unhealthy_threshold: 2, healthy_threshold: 2}
routes:
  - name: api
    match: {path_prefix: /}
    cluster: app
    timeout: 5s
)yaml";

std::string HealthConfig(const std::string& endpoints) {
  return absl::StrReplaceAll(kHealthConfig, {{"ENDPOINTS", endpoints}});
}

TEST_F(ResilienceTest, FailingHealthChecksTakeAnEndpointOutAndPassingOnesBringItBack) {
  ASSERT_NO_FATAL_FAILURE(Start({"a", "b", "c"}, HealthConfig(R"("{{a}}", "{{b}}", "{{c}}")")));
  ASSERT_TRUE(CounterReaches("cluster.app.health_check_success", 6));
  EXPECT_EQ(Endpoint("a").health, "healthy");
  {  // warm pooled connections to every endpoint
    Client warm(env_.proxy_port());
    for (int i = 0; i < 9; ++i) warm.Get("/warm");
  }
  ASSERT_GE(Endpoint("a").cx_idle, 1);

  RW_ASSERT_OK(env_.SetUpstream("a", "health=503"));
  EndpointHealth down;
  ASSERT_TRUE(HealthBecomes("a", {"unhealthy"}, milliseconds(3000), &down));
  EXPECT_GE(down.counters["health_check_failure"], 2) << "unhealthy before 2 failed checks";
  EXPECT_NE(down.reason.find("consecutive failed health checks"), std::string::npos) << down.reason;
  EXPECT_NE(down.reason.find("503"), std::string::npos) << down.reason;
  EXPECT_GE(Counter("cluster.app.health_check_failure"), 2);
  EXPECT_EQ(Counter("cluster.app.endpoints_healthy"), 2);
  // Its idle pooled connections are closed (on every worker, once the host map reaches it).
  EXPECT_TRUE(WaitFor([&] { return Endpoint("a").cx_active == 0; }, milliseconds(3000),
                      "a's pooled connections closed"));

  Client client(env_.proxy_port());
  for (int i = 0; i < 4; ++i) client.Get("/settle");  // the workers have the new host map
  const int64_t a0 = Requests("a"), b0 = Requests("b"), c0 = Requests("c");
  for (int i = 0; i < 60; ++i) client.Get("/down");
  EXPECT_EQ(client.tally().ok, 64) << client.tally().Describe();
  EXPECT_EQ(Requests("a"), a0) << "an unhealthy endpoint got requests";
  EXPECT_GE(Requests("b") - b0, 25);
  EXPECT_GE(Requests("c") - c0, 25);
  EXPECT_EQ(Endpoint("a").health, "unhealthy");  // still failing its checks

  const int64_t ok_before = Endpoint("a").counters["health_check_success"];
  const int64_t success_before = Counter("cluster.app.health_check_success");
  RW_ASSERT_OK(env_.SetUpstream("a", "health=200"));
  EndpointHealth up;
  ASSERT_TRUE(HealthBecomes("a", {"healthy"}, milliseconds(3000), &up));
  EXPECT_GE(up.counters["health_check_success"] - ok_before, 2) << "healthy before 2 good checks";
  EXPECT_EQ(up.reason, "");
  EXPECT_GT(Counter("cluster.app.health_check_success"), success_before);
  for (int i = 0; i < 4; ++i) client.Get("/settle");
  const int64_t a1 = Requests("a");
  for (int i = 0; i < 60; ++i) client.Get("/up");
  EXPECT_EQ(client.tally().ok, 128) << client.tally().Describe();
  EXPECT_GE(Requests("a") - a1, 15) << "a healthy again endpoint gets its share";
}

// ---- 6. Panic mode ---------------------------------------------------------------------------

TEST_F(ResilienceTest, AllEndpointsUnhealthyIsPanicModeAndTrafficStillFlows) {
  ASSERT_NO_FATAL_FAILURE(Start({"a", "b"}, HealthConfig(R"("{{a}}", "{{b}}")")));
  RW_ASSERT_OK(env_.SetUpstream("a", "health=500"));
  RW_ASSERT_OK(env_.SetUpstream("b", "health=500"));
  ASSERT_TRUE(HealthBecomes("a", {"unhealthy"}));
  ASSERT_TRUE(HealthBecomes("b", {"unhealthy"}));
  auto cluster = env_.Cluster("app");
  RW_ASSERT_OK(cluster);
  EXPECT_TRUE(cluster->panic);
  EXPECT_EQ(Counter("cluster.app.endpoints_healthy"), 0);

  Client client(env_.proxy_port());
  const int64_t panic_before = Counter("cluster.app.panic_mode");
  for (int i = 0; i < 20; ++i) client.Get("/panic");
  Tally panic = client.TakeTally();
  EXPECT_EQ(panic.ok, 20) << panic.Describe();
  EXPECT_GE(panic.From("a"), 5) << panic.Describe();  // all of them are used
  EXPECT_GE(panic.From("b"), 5) << panic.Describe();
  EXPECT_GE(Counter("cluster.app.panic_mode") - panic_before, 18);

  // One recovers: no more panic, and it takes all the traffic.
  RW_ASSERT_OK(env_.SetUpstream("a", "health=200"));
  ASSERT_TRUE(HealthBecomes("a", {"healthy"}));
  cluster = env_.Cluster("app");
  RW_ASSERT_OK(cluster);
  EXPECT_FALSE(cluster->panic);
  for (int i = 0; i < 4; ++i) client.Get("/settle");
  const int64_t panic_after = Counter("cluster.app.panic_mode");
  client.TakeTally();
  for (int i = 0; i < 20; ++i) client.Get("/calm");
  Tally calm = client.TakeTally();
  EXPECT_EQ(calm.From("a"), 20) << calm.Describe();
  EXPECT_EQ(Counter("cluster.app.panic_mode"), panic_after);
}

// ---- 8. Weighted split
// ---------------------------------------------------------------------------

}  // namespace
}  // namespace rwtest
