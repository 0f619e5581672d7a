// config::Translate on the resilience fields: dns_refresh, health_check, outlier_detection,
// circuit_breakers, retry_budget, weighted backends and retry (config/translate_resilience.h).
#include "tests/config/translate_resilience_util.h"

namespace rwproxy::config {
namespace {

// The example of issue #8.
constexpr char kIssueExample[] = R"(clusters:
  - name: app
    endpoints: ["127.0.0.1:8081", "app-headless.default.svc.cluster.local:8080"]
    dns_refresh: 5s
    health_check: {path: /healthz, interval: 1s, timeout: 500ms, unhealthy_threshold: 2, healthy_threshold: 2, expected_statuses: ["200-399"], host: app.local}
    outlier_detection: {consecutive_5xx: 5, consecutive_connect_failures: 3, base_ejection_time: 10s, max_ejection_time: 300s, max_ejection_percent: 50}
    circuit_breakers: {max_requests: 1024, max_retries: 3}
    retry_budget: {ratio: 0.2, min_per_second: 10}
  - name: app-canary
    endpoints: ["127.0.0.1:8082"]
routes:
  - name: api
    match: {path_prefix: /api/}
    backends:
      - {cluster: app, weight: 90}
      - {cluster: app-canary, weight: 10}
    retry:
      on: [connect-failure, reset, gateway-error, retriable-status-codes]
      status_codes: [503]
      max: 2
      per_try_timeout: 2s
      backoff: {base: 25ms, max: 250ms}
)";

ConfigSpec TranslateOk(const std::string& yaml) {
  std::vector<FieldError> errors;
  ConfigSpec spec = Translate(Parse(yaml), &errors);
  EXPECT_TRUE(errors.empty()) << Describe(errors);
  return spec;
}

const std::vector<BackendSpec>& Backends(const RouteSpec& route) {
  static const std::vector<BackendSpec> kNone;
  const auto* action = std::get_if<ClusterAction>(&route.action);
  return action == nullptr ? kNone : action->backends;
}

TEST(TranslateResilienceTest, TranslatesIssueExample) {
  ConfigSpec spec = TranslateOk(kIssueExample);
  ASSERT_EQ(spec.clusters.size(), 2u);
  const ClusterSpec& app = spec.clusters[0];
  EXPECT_EQ(app.dns_refresh, absl::Seconds(5));
  ASSERT_TRUE(app.health_check.has_value());
  EXPECT_EQ(app.health_check->path, "/healthz");
  EXPECT_EQ(app.health_check->interval, absl::Seconds(1));
  EXPECT_EQ(app.health_check->timeout, absl::Milliseconds(500));
  EXPECT_EQ(app.health_check->unhealthy_threshold, 2u);
  EXPECT_EQ(app.health_check->healthy_threshold, 2u);
  EXPECT_EQ(app.health_check->expected_statuses, (std::vector<StatusRange>{{200, 399}}));
  EXPECT_EQ(app.health_check->host, "app.local");
  ASSERT_TRUE(app.outlier.has_value());
  EXPECT_EQ(app.outlier->consecutive_5xx, 5u);
  EXPECT_EQ(app.outlier->consecutive_connect_failures, 3u);
  EXPECT_EQ(app.outlier->base_ejection_time, absl::Seconds(10));
  EXPECT_EQ(app.outlier->max_ejection_time, absl::Seconds(300));
  EXPECT_EQ(app.outlier->max_ejection_percent, 50u);
  EXPECT_EQ(app.breakers.max_requests, 1024u);
  EXPECT_EQ(app.breakers.max_retries, 3u);
  EXPECT_DOUBLE_EQ(app.retry_budget.ratio, 0.2);
  EXPECT_EQ(app.retry_budget.min_per_second, 10u);
  const ClusterSpec& canary = spec.clusters[1];
  EXPECT_FALSE(canary.health_check.has_value());
  EXPECT_FALSE(canary.outlier.has_value());
  ASSERT_EQ(spec.routes.size(), 1u);
  const RouteSpec& api = spec.routes[0];
  const std::vector<BackendSpec>& backends = Backends(api);
  ASSERT_EQ(backends.size(), 2u);
  EXPECT_EQ(backends[0].cluster, "app");
  EXPECT_EQ(backends[0].weight, 90u);
  EXPECT_EQ(backends[1].cluster, "app-canary");
  EXPECT_EQ(backends[1].weight, 10u);
  ASSERT_TRUE(api.retry.has_value());
  EXPECT_EQ(api.retry->on,
            kRetryConnectFailure | kRetryReset | kRetryGatewayError | kRetryStatusCodes);
  EXPECT_EQ(api.retry->status_codes, std::vector<int>{503});
  EXPECT_EQ(api.retry->max, 2u);
  EXPECT_EQ(api.retry->per_try_timeout, absl::Seconds(2));
  EXPECT_EQ(api.retry->backoff_base, absl::Milliseconds(25));
  EXPECT_EQ(api.retry->backoff_max, absl::Milliseconds(250));
  EXPECT_FALSE(api.retry->non_idempotent);
}

TEST(TranslateResilienceTest, AppliesDefaults) {
  ConfigSpec spec = TranslateOk(R"(clusters:
  - {name: plain, endpoints: ['a:1']}
  - {name: on, endpoints: ['a:1'], health_check: {path: /h}, outlier_detection: {},
     circuit_breakers: {}, retry_budget: {}}
routes:
  - {name: r, match: {path_prefix: /}, cluster: on, retry: {on: [reset]}}
  - {name: s, match: {path_prefix: /}, backends: [{cluster: plain}]}
)");
  const ClusterSpec& plain = spec.clusters[0];
  EXPECT_EQ(plain.dns_refresh, absl::Seconds(5));
  EXPECT_FALSE(plain.health_check.has_value());
  EXPECT_FALSE(plain.outlier.has_value());
  EXPECT_EQ(plain.breakers.max_requests, 1024u);
  EXPECT_EQ(plain.breakers.max_retries, 1024u);
  EXPECT_DOUBLE_EQ(plain.retry_budget.ratio, 0.2);
  EXPECT_EQ(plain.retry_budget.min_per_second, 10u);
  const ClusterSpec& on = spec.clusters[1];
  ASSERT_TRUE(on.health_check.has_value());
  HealthCheckSpec check;
  check.path = "/h";
  EXPECT_EQ(*on.health_check, check);  // interval 1s, timeout 500ms, thresholds 2, 200-399
  EXPECT_EQ(on.health_check->expected_statuses, (std::vector<StatusRange>{{200, 399}}));
  ASSERT_TRUE(on.outlier.has_value());
  EXPECT_EQ(*on.outlier, OutlierSpec{});
  EXPECT_EQ(on.outlier->consecutive_5xx, 5u);
  EXPECT_EQ(on.outlier->max_ejection_percent, 50u);
  EXPECT_EQ(on.breakers.max_requests, 1024u);
  EXPECT_DOUBLE_EQ(on.retry_budget.ratio, 0.2);
  const RouteSpec& r = spec.routes[0];
  ASSERT_EQ(Backends(r).size(), 1u);
  EXPECT_EQ(Backends(r)[0].cluster, "on");
  EXPECT_EQ(Backends(r)[0].weight, 1u);
  ASSERT_TRUE(r.retry.has_value());
  EXPECT_EQ(r.retry->on, kRetryReset);
  EXPECT_TRUE(r.retry->status_codes.empty());
  EXPECT_EQ(r.retry->max, 1u);
  EXPECT_FALSE(r.retry->per_try_timeout.has_value());
  EXPECT_EQ(r.retry->backoff_base, absl::Milliseconds(25));
  EXPECT_EQ(r.retry->backoff_max, absl::Milliseconds(250));
  EXPECT_FALSE(r.retry->non_idempotent);
  const RouteSpec& s = spec.routes[1];
  ASSERT_EQ(Backends(s).size(), 1u);
  EXPECT_EQ(Backends(s)[0].weight, 1u);  // weight left out
  EXPECT_FALSE(s.retry.has_value());
}

// When one side of a bounded pair is written, the other side's default is clamped to it.
TEST(TranslateResilienceTest, ClampsTheUnwrittenSideOfAPair) {
  ConfigSpec spec = TranslateOk(R"(clusters:
  - {name: fast, endpoints: ['a:1'], health_check: {path: /h, interval: 200ms},
     outlier_detection: {base_ejection_time: 10m}}
  - {name: slow, endpoints: ['a:1'], health_check: {path: /h, timeout: 3s},
     outlier_detection: {max_ejection_time: 1s}}
routes:
  - {name: a, match: {path_prefix: /a}, cluster: fast, retry: {on: [5xx], backoff: {max: 10ms}}}
  - {name: b, match: {path_prefix: /b}, cluster: fast, retry: {on: [5xx], backoff: {base: 1s}}}
)");
  const ClusterSpec& fast = spec.clusters[0];
  EXPECT_EQ(fast.health_check->interval, absl::Milliseconds(200));
  EXPECT_EQ(fast.health_check->timeout, absl::Milliseconds(200));  // default 500ms, clamped
  EXPECT_EQ(fast.outlier->base_ejection_time, absl::Minutes(10));
  EXPECT_EQ(fast.outlier->max_ejection_time, absl::Minutes(10));  // default 300s, raised
  const ClusterSpec& slow = spec.clusters[1];
  EXPECT_EQ(slow.health_check->timeout, absl::Seconds(3));
  EXPECT_EQ(slow.health_check->interval, absl::Seconds(3));  // default 1s, raised
  EXPECT_EQ(slow.outlier->max_ejection_time, absl::Seconds(1));
  EXPECT_EQ(slow.outlier->base_ejection_time, absl::Seconds(1));  // default 10s, clamped
  EXPECT_EQ(spec.routes[0].retry->backoff_base, absl::Milliseconds(10));
  EXPECT_EQ(spec.routes[0].retry->backoff_max, absl::Milliseconds(10));
  EXPECT_EQ(spec.routes[1].retry->backoff_base, absl::Seconds(1));
  EXPECT_EQ(spec.routes[1].retry->backoff_max, absl::Seconds(1));
}

TEST(TranslateResilienceTest, AcceptsValidVariants) {
  ConfigSpec spec = TranslateOk(R"(clusters:
  - name: app
    endpoints: ['a:1']
    dns_refresh: 250ms
    health_check:
      path: /ready?full=1
      interval: 5s
      timeout: 5s
      unhealthy_threshold: 1
      healthy_threshold: 100
      expected_statuses: [200, " 204 ", "300-302", "100-599"]
      host: "[::1]:8080"
    outlier_detection: {consecutive_5xx: 0, max_ejection_percent: 100, base_ejection_time: 1s,
                        max_ejection_time: 1s}
    circuit_breakers: {max_requests: 1, max_retries: 0}
    retry_budget: {ratio: 1, min_per_second: 0}
  - name: b
    endpoints: ['a:1']
    outlier_detection: {consecutive_connect_failures: 0, max_ejection_percent: 0}
    retry_budget: {ratio: 0.0}
routes:
  - name: split
    match: {path_prefix: /api/}
    rewrite: {prefix: /, host: internal}
    backends: [{cluster: app, weight: 0}, {cluster: b, weight: 10000}]
    retry:
      on: [5xx, retriable-status-codes]
      status_codes: [100, 599, 429]
      max: 10
      backoff: {base: 1ms, max: 1ms}
      non_idempotent: true
  - {name: gw, match: {path_prefix: /}, cluster: b, retry: {on: [gateway-error], max: 1}}
)");
  const ClusterSpec& app = spec.clusters[0];
  EXPECT_EQ(app.dns_refresh, absl::Milliseconds(250));
  EXPECT_EQ(app.health_check->path, "/ready?full=1");
  EXPECT_EQ(app.health_check->timeout, absl::Seconds(5));
  EXPECT_EQ(app.health_check->unhealthy_threshold, 1u);
  EXPECT_EQ(app.health_check->healthy_threshold, 100u);
  EXPECT_EQ(app.health_check->expected_statuses,
            (std::vector<StatusRange>{{200, 200}, {204, 204}, {300, 302}, {100, 599}}));
  EXPECT_EQ(app.health_check->host, "[::1]:8080");
  EXPECT_EQ(app.outlier->consecutive_5xx, 0u);
  EXPECT_EQ(app.outlier->consecutive_connect_failures, 3u);
  EXPECT_EQ(app.outlier->max_ejection_percent, 100u);
  EXPECT_EQ(app.outlier->max_ejection_time, absl::Seconds(1));
  EXPECT_EQ(app.breakers.max_requests, 1u);
  EXPECT_EQ(app.breakers.max_retries, 0u);
  EXPECT_DOUBLE_EQ(app.retry_budget.ratio, 1.0);
  EXPECT_EQ(app.retry_budget.min_per_second, 0u);
  const ClusterSpec& b = spec.clusters[1];
  EXPECT_EQ(b.outlier->consecutive_5xx, 5u);
  EXPECT_EQ(b.outlier->consecutive_connect_failures, 0u);
  EXPECT_EQ(b.outlier->max_ejection_percent, 0u);
  EXPECT_DOUBLE_EQ(b.retry_budget.ratio, 0.0);
  const RouteSpec& split = spec.routes[0];
  EXPECT_EQ(split.rewrite.prefix, "/");
  EXPECT_EQ(split.rewrite.host, "internal");
  ASSERT_EQ(Backends(split).size(), 2u);
  EXPECT_EQ(Backends(split)[0].weight, 0u);  // drained, kept
  EXPECT_EQ(Backends(split)[1].weight, 10000u);
  EXPECT_EQ(split.retry->on, kRetry5xx | kRetryStatusCodes);
  EXPECT_EQ(split.retry->status_codes, (std::vector<int>{100, 599, 429}));
  EXPECT_EQ(split.retry->max, 10u);
  EXPECT_EQ(split.retry->backoff_base, absl::Milliseconds(1));
  EXPECT_EQ(split.retry->backoff_max, absl::Milliseconds(1));
  EXPECT_TRUE(split.retry->non_idempotent);
  EXPECT_EQ(spec.routes[1].retry->on, kRetryGatewayError);
}

TEST(TranslateResilienceTest, RejectsNanRetryBudgetRatio) {
  Config config = Parse("clusters: [{name: app, endpoints: ['a:1']}]\n");
  config.mutable_clusters(0)->mutable_retry_budget()->set_ratio(
      std::numeric_limits<double>::quiet_NaN());
  std::vector<FieldError> errors;
  ConfigSpec spec = Translate(config, &errors);
  ASSERT_EQ(errors.size(), 1u) << Describe(errors);
  EXPECT_EQ(errors[0].field, "clusters[0].retry_budget.ratio");
  EXPECT_EQ(errors[0].message, "ratio must be between 0 and 1, got nan");
  EXPECT_FALSE(std::isnan(spec.clusters[0].retry_budget.ratio));
}

TEST(TranslateResilienceTest, ReportsEveryResilienceError) {
  std::vector<FieldError> errors;
  ConfigSpec spec = Translate(Parse(R"(clusters:
  - name: app
    endpoints: ['a:1']
    dns_refresh: 5
    health_check: {path: healthz, interval: 1s, timeout: 2s, expected_statuses: ["600-700"]}
    outlier_detection: {consecutive_5xx: 0, consecutive_connect_failures: 0}
    retry_budget: {ratio: 2}
routes:
  - name: r
    match: {path_prefix: /}
    backends: [{cluster: nope, weight: 0}]
    retry: {on: [sometimes], max: 0}
)"),
                              &errors);
  std::vector<std::pair<std::string, std::string>> got;
  for (const FieldError& e : errors) got.emplace_back(e.field, e.message);
  const std::vector<std::pair<std::string, std::string>> want = {
      {"clusters[0].dns_refresh", "duration '5' needs a unit (e.g. 250ms, 1s, 2m)"},
      {"clusters[0].health_check.path", "must start with '/', got 'healthz'"},
      {"clusters[0].health_check.timeout", "timeout 2s must not exceed interval 1s"},
      {"clusters[0].health_check.expected_statuses[0]",
       "invalid status range '600-700': statuses must be 100..599"},
      {"clusters[0].outlier_detection",
       "at least one of consecutive_5xx, consecutive_connect_failures must be > 0 (remove "
       "outlier_detection to turn it off)"},
      {"clusters[0].retry_budget.ratio", "ratio must be between 0 and 1, got 2"},
      {"routes[0].backends[0].cluster", "unknown cluster 'nope' (defined: app)"},
      {"routes[0].backends", "at least one backend needs a weight > 0"},
      {"routes[0].retry.on[0]",
       "unknown retry condition 'sometimes' (use connect-failure, reset, gateway-error, "
       "retriable-status-codes, 5xx)"},
      {"routes[0].retry.max", "max must be 1..10; remove retry to disable retries"},
  };
  EXPECT_EQ(got, want) << Describe(errors);
  // Best effort: the invalid values fell back to the defaults.
  EXPECT_EQ(spec.clusters[0].dns_refresh, absl::Seconds(5));
  EXPECT_DOUBLE_EQ(spec.clusters[0].retry_budget.ratio, 0.2);
}

}  // namespace
}  // namespace rwproxy::config
