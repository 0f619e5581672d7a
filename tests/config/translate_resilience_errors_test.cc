// config::Translate on bad resilience fields: one row per rule, each with its exact field path
// and message.
#include "tests/config/translate_resilience_util.h"

namespace rwproxy::config {
namespace {

struct ErrorRow {
  const char* name;
  std::string yaml;
  const char* field;
  const char* message;  // substring
};

// A cluster "app" with `fields` added, e.g. "health_check: {path: x}".
ErrorRow Cluster(const char* name, const std::string& fields, const char* field,
                 const char* message) {
  return {name, "clusters:\n  - {name: app, endpoints: ['a:1'], " + fields + "}\n", field, message};
}

// One route after the clusters "app" and "canary".
ErrorRow Route(const char* name, const std::string& route, const char* field, const char* message) {
  return {name, std::string(kClusters) + "routes:\n  - " + route + "\n", field, message};
}

// A cluster route with `retry` set to `retry`.
ErrorRow Retry(const char* name, const std::string& retry, const char* field, const char* message) {
  return Route(name, "{name: r, match: {path_prefix: /}, cluster: app, retry: " + retry + "}",
               field, message);
}

class TranslateResilienceErrorTest : public testing::TestWithParam<ErrorRow> {};

TEST_P(TranslateResilienceErrorTest, ReportsFieldAndMessage) {
  const ErrorRow& row = GetParam();
  std::vector<FieldError> errors;
  Translate(Parse(row.yaml), &errors);
  ASSERT_EQ(errors.size(), 1u) << Describe(errors);
  EXPECT_EQ(errors[0].field, row.field);
  EXPECT_NE(errors[0].message.find(row.message), std::string::npos) << errors[0].message;
}

INSTANTIATE_TEST_SUITE_P(
    Rows, TranslateResilienceErrorTest,
    testing::Values(
        // dns_refresh.
        Cluster("RejectsDnsRefreshWithoutUnit", "dns_refresh: '5'", "clusters[0].dns_refresh",
                "needs a unit"),
        Cluster("RejectsZeroDnsRefresh", "dns_refresh: 0s", "clusters[0].dns_refresh",
                "must be > 0"),
        // health_check.
        Cluster("RejectsHealthCheckWithoutPath", "health_check: {interval: 1s}",
                "clusters[0].health_check.path", "path is required"),
        Cluster("RejectsEmptyHealthCheck", "health_check: {}", "clusters[0].health_check.path",
                "path is required"),
        Cluster("RejectsHealthCheckPathWithoutSlash", "health_check: {path: healthz}",
                "clusters[0].health_check.path", "must start with '/', got 'healthz'"),
        Cluster("RejectsHealthCheckPathWithSpace", "health_check: {path: '/a b'}",
                "clusters[0].health_check.path", "must not contain spaces or control characters"),
        Cluster("RejectsHealthCheckPathWithControl", "health_check: {path: \"/a\\tb\"}",
                "clusters[0].health_check.path", "must not contain spaces or control characters"),
        Cluster("RejectsHealthCheckIntervalWithoutUnit", "health_check: {path: /h, interval: '1'}",
                "clusters[0].health_check.interval", "needs a unit"),
        Cluster("RejectsInfiniteHealthCheckTimeout", "health_check: {path: /h, timeout: inf}",
                "clusters[0].health_check.timeout", "must be finite"),
        Cluster("RejectsTimeoutAboveInterval",
                "health_check: {path: /h, interval: 1s, timeout: 2s}",
                "clusters[0].health_check.timeout", "timeout 2s must not exceed interval 1s"),
        Cluster("RejectsZeroUnhealthyThreshold", "health_check: {path: /h, unhealthy_threshold: 0}",
                "clusters[0].health_check.unhealthy_threshold", "must be 1..100, got 0"),
        Cluster("RejectsZeroHealthyThreshold", "health_check: {path: /h, healthy_threshold: 0}",
                "clusters[0].health_check.healthy_threshold", "must be 1..100, got 0"),
        Cluster("RejectsThresholdOverCap", "health_check: {path: /h, healthy_threshold: 101}",
                "clusters[0].health_check.healthy_threshold", "must be 1..100, got 101"),
        Cluster("RejectsStatusRangeOutOfBounds",
                "health_check: {path: /h, expected_statuses: ['600-700']}",
                "clusters[0].health_check.expected_statuses[0]",
                "invalid status range '600-700': statuses must be 100..599"),
        Cluster("RejectsStatusBelow100", "health_check: {path: /h, expected_statuses: ['099-200']}",
                "clusters[0].health_check.expected_statuses[0]", "statuses must be 100..599"),
        Cluster("RejectsInvertedStatusRange",
                "health_check: {path: /h, expected_statuses: ['200', '399-200']}",
                "clusters[0].health_check.expected_statuses[1]", "399 is greater than 200"),
        Cluster("RejectsMalformedStatus", "health_check: {path: /h, expected_statuses: [2xx]}",
                "clusters[0].health_check.expected_statuses[0]",
                "invalid status range '2xx': use NNN or NNN-MMM"),
        Cluster("RejectsStatusRangeWithoutEnd",
                "health_check: {path: /h, expected_statuses: ['200-']}",
                "clusters[0].health_check.expected_statuses[0]", "use NNN or NNN-MMM"),
        Cluster("RejectsFourDigitStatus", "health_check: {path: /h, expected_statuses: ['0200']}",
                "clusters[0].health_check.expected_statuses[0]", "use NNN or NNN-MMM"),
        Cluster("RejectsHealthCheckHostWithSpace", "health_check: {path: /h, host: 'a b'}",
                "clusters[0].health_check.host", "must not contain spaces, CR or LF"),
        Cluster("RejectsHealthCheckHostWithCrLf", "health_check: {path: /h, host: \"a\\r\\nb\"}",
                "clusters[0].health_check.host", "must not contain spaces, CR or LF"),
        Cluster("RejectsHealthCheckHostBadPort", "health_check: {path: /h, host: 'a:0'}",
                "clusters[0].health_check.host", "port must be 1..65535"),
        Cluster("RejectsHealthCheckHostBadChars", "health_check: {path: /h, host: 'a/b'}",
                "clusters[0].health_check.host", "invalid host 'a/b'"),
        // outlier_detection.
        Cluster("RejectsBothOutlierTriggersOff",
                "outlier_detection: {consecutive_5xx: 0, consecutive_connect_failures: 0}",
                "clusters[0].outlier_detection",
                "at least one of consecutive_5xx, consecutive_connect_failures must be > 0"),
        Cluster("RejectsMaxEjectionPercentOver100",
                "outlier_detection: {max_ejection_percent: 101}",
                "clusters[0].outlier_detection.max_ejection_percent", "must be 0..100, got 101"),
        Cluster("RejectsMaxEjectionBelowBase",
                "outlier_detection: {base_ejection_time: 10s, max_ejection_time: 5s}",
                "clusters[0].outlier_detection.max_ejection_time",
                "max_ejection_time 5s must not be less than base_ejection_time 10s"),
        Cluster("RejectsNegativeBaseEjectionTime", "outlier_detection: {base_ejection_time: -1s}",
                "clusters[0].outlier_detection.base_ejection_time", "must be > 0"),
        Cluster("RejectsMaxEjectionTimeWithoutUnit", "outlier_detection: {max_ejection_time: '9'}",
                "clusters[0].outlier_detection.max_ejection_time", "needs a unit"),
        // circuit_breakers and retry_budget.
        Cluster("RejectsZeroMaxRequests", "circuit_breakers: {max_requests: 0}",
                "clusters[0].circuit_breakers.max_requests", "must be >= 1"),
        Cluster("RejectsRetryBudgetRatioAboveOne", "retry_budget: {ratio: 1.5}",
                "clusters[0].retry_budget.ratio", "ratio must be between 0 and 1, got 1.5"),
        Cluster("RejectsNegativeRetryBudgetRatio", "retry_budget: {ratio: -0.1}",
                "clusters[0].retry_budget.ratio", "ratio must be between 0 and 1"),
        Cluster("RejectsInfiniteRetryBudgetRatio", "retry_budget: {ratio: .inf}",
                "clusters[0].retry_budget.ratio", "ratio must be between 0 and 1, got inf"),
        Cluster("RejectsNanRetryBudgetRatioFromYaml", "retry_budget: {ratio: .nan}",
                "clusters[0].retry_budget.ratio", "ratio must be between 0 and 1, got nan"),
        // Route actions and backends.
        Route("RejectsRouteWithoutAction", "{name: r, match: {path_prefix: /}}", "routes[0]",
              "one of cluster, backends, redirect, respond is required"),
        Route("RejectsClusterAndBackends",
              "{name: r, match: {path_prefix: /}, cluster: app, backends: [{cluster: canary}]}",
              "routes[0].backends", "cluster and backends are exclusive"),
        Route("RejectsBackendsWithRedirect",
              "{name: r, match: {path_prefix: /}, redirect: {location: /}, backends: [{cluster: "
              "app}]}",
              "routes[0].backends", "redirect and backends are exclusive"),
        Route("RejectsBackendsWithRespond",
              "{name: r, match: {path_prefix: /}, respond: {}, backends: [{cluster: app}]}",
              "routes[0].backends", "respond and backends are exclusive"),
        Route("RejectsUnknownBackendCluster",
              "{name: r, match: {path_prefix: /}, backends: [{cluster: app}, {cluster: nope}]}",
              "routes[0].backends[1].cluster", "unknown cluster 'nope' (defined: app, canary)"),
        Route("RejectsBackendWithoutCluster",
              "{name: r, match: {path_prefix: /}, backends: [{cluster: app}, {weight: 5}]}",
              "routes[0].backends[1].cluster", "cluster name is required"),
        Route("RejectsBackendWeightOverCap",
              "{name: r, match: {path_prefix: /}, backends: [{cluster: app, weight: 10001}]}",
              "routes[0].backends[0].weight", "weight must be 0..10000, got 10001"),
        Route("RejectsAllZeroWeights",
              "{name: r, match: {path_prefix: /}, backends: [{cluster: app, weight: 0}, "
              "{cluster: canary, weight: 0}]}",
              "routes[0].backends", "at least one backend needs a weight > 0"),
        Route("RejectsDuplicateBackendCluster",
              "{name: r, match: {path_prefix: /}, backends: [{cluster: app}, {cluster: canary}, "
              "{cluster: app, weight: 3}]}",
              "routes[0].backends[2].cluster",
              "duplicate backend cluster 'app' (first at routes[0].backends[0])"),
        Route("RejectsRewriteOnRespondStill",
              "{name: r, match: {path_prefix: /}, rewrite: {path: /x}, respond: {}}",
              "routes[0].rewrite", "rewrite is only allowed on cluster and backends routes"),
        // Retry.
        Route("RejectsRetryOnRedirect",
              "{name: r, match: {path_prefix: /}, redirect: {location: /}, retry: {on: [reset]}}",
              "routes[0].retry", "retry is only allowed on cluster and backends routes"),
        Route("RejectsRetryOnRespond",
              "{name: r, match: {path_prefix: /}, respond: {}, retry: {on: [5xx]}}",
              "routes[0].retry", "retry is only allowed on cluster and backends routes"),
        Retry("RejectsRetryWithoutConditions", "{max: 2}", "routes[0].retry.on",
              "at least one retry condition is required"),
        Retry("RejectsEmptyRetry", "{}", "routes[0].retry.on",
              "at least one retry condition is required"),
        Retry("RejectsUnknownRetryCondition", "{on: [reset, 5XX]}", "routes[0].retry.on[1]",
              "unknown retry condition '5XX' (use connect-failure, reset, gateway-error, "
              "retriable-status-codes, 5xx)"),
        Retry("RejectsDuplicateRetryCondition", "{on: [reset, connect-failure, reset]}",
              "routes[0].retry.on[2]", "duplicate retry condition 'reset'"),
        Retry("RejectsRetriableStatusCodesWithoutCodes", "{on: [retriable-status-codes]}",
              "routes[0].retry.status_codes",
              "status_codes is required with retriable-status-codes"),
        Retry("RejectsStatusCodesWithoutCondition", "{on: [5xx], status_codes: [503]}",
              "routes[0].retry.status_codes", "status_codes needs retriable-status-codes"),
        Retry("RejectsRetryStatusCodeOver599",
              "{on: [retriable-status-codes], status_codes: [503, 600]}",
              "routes[0].retry.status_codes[1]", "status code must be 100..599, got 600"),
        Retry("RejectsRetryStatusCodeBelow100",
              "{on: [retriable-status-codes], status_codes: [99]}",
              "routes[0].retry.status_codes[0]", "status code must be 100..599, got 99"),
        Retry("RejectsDuplicateRetryStatusCode",
              "{on: [retriable-status-codes], status_codes: [503, 503]}",
              "routes[0].retry.status_codes[1]", "duplicate status code 503"),
        Retry("RejectsZeroRetryMax", "{on: [reset], max: 0}", "routes[0].retry.max",
              "max must be 1..10; remove retry to disable retries"),
        Retry("RejectsRetryMaxOverCap", "{on: [reset], max: 11}", "routes[0].retry.max",
              "max must be 1..10, got 11"),
        Retry("RejectsPerTryTimeoutWithoutUnit", "{on: [reset], per_try_timeout: '2'}",
              "routes[0].retry.per_try_timeout", "needs a unit"),
        Retry("RejectsZeroPerTryTimeout", "{on: [reset], per_try_timeout: 0s}",
              "routes[0].retry.per_try_timeout", "must be > 0"),
        Retry("RejectsBadBackoffBase", "{on: [reset], backoff: {base: soon}}",
              "routes[0].retry.backoff.base", "invalid duration 'soon'"),
        Retry("RejectsBackoffMaxBelowBase", "{on: [reset], backoff: {base: 100ms, max: 50ms}}",
              "routes[0].retry.backoff.max", "max 50ms must not be less than base 100ms"),
        Route("RejectsRetryErrorsOnBackendsRoutes",
              "{name: r, match: {path_prefix: /}, backends: [{cluster: app}], retry: {on: [x]}}",
              "routes[0].retry.on[0]", "unknown retry condition 'x'")),
    [](const testing::TestParamInfo<ErrorRow>& info) { return std::string(info.param.name); });

}  // namespace
}  // namespace rwproxy::config
