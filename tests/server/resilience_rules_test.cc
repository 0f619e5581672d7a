// The pure resilience rules: retry decisions, backoff, retry budget, ejection times and limits,
// the weighted backend pick, and the hosts-file lookup.
#include <map>
#include <random>

#include "gtest/gtest.h"
#include "server/router/route_table.h"
#include "server/upstream/outlier.h"
#include "server/upstream/resolver.h"
#include "server/upstream/retry.h"

namespace rwproxy {
namespace {

using Clock = std::chrono::steady_clock;

RetrySpec Policy(uint32_t on, std::vector<int> codes = {}) {
  RetrySpec spec;
  spec.on = on;
  spec.status_codes = std::move(codes);
  return spec;
}

struct RetryCase {
  const char* name;
  uint32_t on;
  TryResult result;
  int status;
  bool idempotent;
  bool expected;
};

TEST(RetryRulesTest, MayRetryFollowsTheDocumentedTable) {
  const RetryCase cases[] = {
      {"connect failure under connect-failure", kRetryConnectFailure, TryResult::kConnectFailure, 0,
       false, true},
      {"connect failure under 5xx", kRetry5xx, TryResult::kConnectFailure, 0, false, true},
      {"connect failure under reset only", kRetryReset, TryResult::kConnectFailure, 0, true, false},
      {"reset under reset (POST too)", kRetryReset, TryResult::kReset, 0, false, true},
      {"reset under gateway-error", kRetryGatewayError, TryResult::kReset, 0, true, false},
      {"per-try timeout under reset", kRetryReset, TryResult::kPerTryTimeout, 0, true, true},
      {"per-try timeout of a POST", kRetryReset, TryResult::kPerTryTimeout, 0, false, false},
      {"per-try timeout under gateway-error", kRetryGatewayError, TryResult::kPerTryTimeout, 0,
       true, true},
      {"per-try timeout under connect-failure", kRetryConnectFailure, TryResult::kPerTryTimeout, 0,
       true, false},
      {"503 under gateway-error", kRetryGatewayError, TryResult::kResponse, 503, true, true},
      {"500 under gateway-error", kRetryGatewayError, TryResult::kResponse, 500, true, false},
      {"500 under 5xx", kRetry5xx, TryResult::kResponse, 500, true, true},
      {"404 under 5xx", kRetry5xx, TryResult::kResponse, 404, true, false},
      {"503 under 5xx for POST", kRetry5xx, TryResult::kResponse, 503, false, false},
      {"200 under everything", 31, TryResult::kResponse, 200, true, false},
  };
  for (const RetryCase& c : cases) {
    EXPECT_EQ(MayRetry(Policy(c.on), c.result, c.status, c.idempotent), c.expected) << c.name;
  }
}

TEST(RetryRulesTest, StatusCodesNeedTheirFlagAndAreListed) {
  RetrySpec spec = Policy(kRetryStatusCodes, {409, 503});
  EXPECT_TRUE(MayRetry(spec, TryResult::kResponse, 409, true));
  EXPECT_FALSE(MayRetry(spec, TryResult::kResponse, 502, true));
  EXPECT_FALSE(MayRetry(Policy(kRetry5xx, {409}), TryResult::kResponse, 409, true));
  EXPECT_FALSE(MayRetry(spec, TryResult::kResponse, 409, false));
  spec.non_idempotent = true;
  EXPECT_TRUE(MayRetry(spec, TryResult::kResponse, 409, false));
}

TEST(RetryRulesTest, BackoffIsFullJitterUnderADoublingCeiling) {
  RetrySpec spec;
  spec.backoff_base = absl::Milliseconds(25);
  spec.backoff_max = absl::Milliseconds(250);
  std::mt19937_64 rng(7);
  const absl::Duration ceilings[] = {absl::Milliseconds(25),  absl::Milliseconds(50),
                                     absl::Milliseconds(100), absl::Milliseconds(200),
                                     absl::Milliseconds(250), absl::Milliseconds(250)};
  for (int retry = 1; retry <= 6; ++retry) {
    absl::Duration longest = absl::ZeroDuration();
    for (int i = 0; i < 2000; ++i) {
      absl::Duration d = Backoff(spec, retry, rng());
      ASSERT_GE(d, absl::ZeroDuration());
      ASSERT_LT(d, ceilings[retry - 1]) << "retry " << retry;
      longest = std::max(longest, d);
    }
    // Full jitter uses the whole range: the longest of 2000 draws is near the ceiling.
    EXPECT_GT(longest, ceilings[retry - 1] * 0.9) << "retry " << retry;
  }
}

TEST(RetryBudgetTest, RetriesStayWithinRatioPlusFloor) {
  RetryBudget budget;
  const auto start = Clock::now();
  int retries = 0;
  constexpr int kRequests = 10000;
  for (int i = 0; i < kRequests; ++i) {
    budget.OnRequest(0.2);
    // Every request wants two retries; all within one second, floor 5.
    for (int r = 0; r < 2; ++r) retries += budget.TryTake(start, 5.0);
  }
  EXPECT_LE(retries, kRequests * 0.2 + 5 + 1);
  EXPECT_GE(retries, kRequests * 0.2 - 1);
}

TEST(RetryBudgetTest, FloorRefillsContinuouslyUpToOneSecondsWorth) {
  RetryBudget budget;
  const auto t0 = Clock::now();
  auto take_all = [&](std::chrono::milliseconds at) {
    int n = 0;
    while (n < 100 && budget.TryTake(t0 + at, 3.0)) ++n;
    return n;
  };
  EXPECT_EQ(take_all(std::chrono::milliseconds(0)), 3);
  EXPECT_EQ(take_all(std::chrono::milliseconds(500)), 1);    // 1.5 earned
  EXPECT_EQ(take_all(std::chrono::milliseconds(10000)), 3);  // capped at one second's worth
}

TEST(RetryBudgetTest, AFractionalFloorShareAddsUpAcrossSeconds) {
  // min_per_second 1 over 2 workers: half a retry per worker per second; one at once, then one
  // every 2 s.
  RetryBudget budget;
  const auto t0 = Clock::now();
  int retries = 0;
  for (int second = 0; second < 10; ++second) {
    const auto now = t0 + std::chrono::milliseconds(1001 * second);
    while (budget.TryTake(now, 0.5)) ++retries;
  }
  EXPECT_EQ(retries, 5);
}

TEST(OutlierRulesTest, EjectionDoublesWhenConsecutiveAndIsCapped) {
  OutlierSpec spec;
  spec.base_ejection_time = absl::Seconds(10);
  spec.max_ejection_time = absl::Seconds(35);
  EjectionState state;
  auto now = Clock::now();
  EXPECT_EQ(Eject(spec, &state, now), absl::Seconds(10));
  EXPECT_FALSE(MaybeReturn(&state, now + std::chrono::seconds(9)));
  ASSERT_TRUE(MaybeReturn(&state, now + std::chrono::seconds(10)));
  now += std::chrono::seconds(11);  // back for 1 s, fails again: consecutive
  EXPECT_EQ(Eject(spec, &state, now), absl::Seconds(20));
  ASSERT_TRUE(MaybeReturn(&state, now + std::chrono::seconds(20)));
  now += std::chrono::seconds(21);
  EXPECT_EQ(Eject(spec, &state, now), absl::Seconds(35));  // 40 s capped
  EXPECT_EQ(state.level, 3u);
}

TEST(OutlierRulesTest, AQuietStretchResetsTheLevel) {
  OutlierSpec spec;
  spec.base_ejection_time = absl::Seconds(10);
  EjectionState state;
  auto now = Clock::now();
  Eject(spec, &state, now);
  ASSERT_TRUE(MaybeReturn(&state, now + std::chrono::seconds(10)));
  // Healthy for longer than the last ejection lasted: the next one starts at base again.
  EXPECT_EQ(Eject(spec, &state, now + std::chrono::seconds(25)), absl::Seconds(10));
  EXPECT_EQ(state.level, 1u);
}

TEST(OutlierRulesTest, MaxEjectionPercentLetsAtLeastOneGo) {
  EXPECT_TRUE(MayEject(0, 3, 10));   // 33% > 10%, but one may always go
  EXPECT_FALSE(MayEject(1, 3, 50));  // a second would make 67%
  EXPECT_TRUE(MayEject(1, 4, 50));   // 2 of 4 = 50%
  EXPECT_FALSE(MayEject(2, 4, 50));
  EXPECT_FALSE(MayEject(0, 3, 0));  // 0%: never
  EXPECT_TRUE(MayEject(2, 3, 100));
}

TEST(WeightedBackendTest, NinetyTenSplitIsWithinOnePointOverTenThousand) {
  CompiledRoute route;
  route.backends = {{0, "app", 90, 90}, {1, "canary", 10, 100}};
  route.total_weight = 100;
  std::mt19937_64 rng(1);  // seeded: the same figures every run
  std::map<std::string, int> hits;
  for (int i = 0; i < 10000; ++i) ++hits[route.PickBackend(rng()).cluster_name];
  EXPECT_NEAR(hits["app"] / 100.0, 90.0, 1.0);
  EXPECT_NEAR(hits["canary"] / 100.0, 10.0, 1.0);
}

TEST(WeightedBackendTest, ZeroWeightBackendGetsNothing) {
  CompiledRoute route;
  route.backends = {{0, "a", 0, 0}, {1, "b", 3, 3}};
  route.total_weight = 3;
  for (uint64_t draw = 0; draw < 100; ++draw) EXPECT_EQ(route.PickBackend(draw).cluster_name, "b");
}

TEST(ResolverTest, HostsTextGivesEveryAddressOfAName) {
  const std::string text =
      "127.0.0.1 localhost\n"
      "# 10.9.9.9 app.test (commented out)\n"
      "10.0.0.1\tapp.test other.test\n"
      "10.0.0.2 APP.test # same name, any case\n"
      "not-an-address app.test\n";
  auto addresses = LookupHostsText(text, "app.test");
  ASSERT_EQ(addresses.size(), 2u);
  EXPECT_EQ(addresses[0].to_string(), "10.0.0.1");
  EXPECT_EQ(addresses[1].to_string(), "10.0.0.2");
  EXPECT_TRUE(LookupHostsText(text, "missing.test").empty());
}

TEST(ResolverTest, IpLiteralsNeedNoLookup) {
  Resolution r = Resolve("127.0.0.1", 8080);
  ASSERT_TRUE(r.ok);
  ASSERT_EQ(r.addresses.size(), 1u);
  EXPECT_EQ(r.addresses[0].port(), 8080);
  Resolution v6 = Resolve("::1", 80);
  ASSERT_TRUE(v6.ok);
  EXPECT_TRUE(v6.addresses[0].address().is_v6());
}

}  // namespace
}  // namespace rwproxy
