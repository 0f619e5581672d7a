// The guard's pure parts (control/guard.h): settings, the decision table, the sample's windows
// and the verdict texts.
#include "control/guard.h"

#include <string>

#include "config/numbers.h"
#include "gtest/gtest.h"

namespace rwproxy::control {
namespace {

TEST(GuardTest, ParsesSettingsWithDefaults) {
  v1::Guard guard;
  auto none = ParseGuard(guard);
  ASSERT_TRUE(none.ok());
  EXPECT_FALSE(none->has_value());

  guard.set_duration("30s");
  auto parsed = ParseGuard(guard);
  ASSERT_TRUE(parsed.ok()) << parsed.status();
  ASSERT_TRUE(parsed->has_value());
  EXPECT_EQ((*parsed)->duration, absl::Seconds(30));
  EXPECT_DOUBLE_EQ((*parsed)->max_error_ratio, 0.01);
  EXPECT_EQ((*parsed)->min_requests, 100u);

  guard.set_max_error_ratio(0);  // explicitly 0: any error reverts
  guard.set_min_requests(5);
  parsed = ParseGuard(guard);
  ASSERT_TRUE(parsed.ok());
  EXPECT_DOUBLE_EQ((*parsed)->max_error_ratio, 0);
  EXPECT_EQ((*parsed)->min_requests, 5u);
}

TEST(GuardTest, RejectsBadSettingsNamingTheField) {
  struct Case {
    std::string duration;
    std::optional<double> ratio;
    std::optional<uint64_t> min;
    std::string message;
  } cases[] = {
      {"", 0.5, std::nullopt, "guard.duration: required when"},
      {"", std::nullopt, 10, "guard.duration: required when"},
      {"30", std::nullopt, std::nullopt, "guard.duration: '30' is not a duration"},
      {"soon", std::nullopt, std::nullopt, "guard.duration: 'soon' is not a duration"},
      {"inf", std::nullopt, std::nullopt, "guard.duration: 'inf' is not a duration"},
      {"500ms", std::nullopt, std::nullopt, "guard.duration: 500ms is out of range (1s..1h)"},
      {"2h", std::nullopt, std::nullopt, "guard.duration: 2h is out of range (1s..1h)"},
      {"10s", 1.5, std::nullopt, "guard.max_error_ratio: 1.5 is out of range"},
      {"10s", -0.1, std::nullopt, "guard.max_error_ratio: -0.1 is out of range"},
      {"10s", std::nullopt, 0, "guard.min_requests: must be at least 1"},
  };
  for (const Case& c : cases) {
    v1::Guard guard;
    guard.set_duration(c.duration);
    if (c.ratio) guard.set_max_error_ratio(*c.ratio);
    if (c.min) guard.set_min_requests(*c.min);
    auto parsed = ParseGuard(guard);
    ASSERT_FALSE(parsed.ok()) << c.duration;
    EXPECT_EQ(parsed.status().code(), absl::StatusCode::kInvalidArgument);
    EXPECT_TRUE(std::string(parsed.status().message()).starts_with(c.message))
        << parsed.status().message() << " vs " << c.message;
  }
  v1::Guard edge;
  edge.set_duration("1h");
  EXPECT_TRUE(ParseGuard(edge).ok());
  edge.set_duration("1s");
  EXPECT_TRUE(ParseGuard(edge).ok());
}

TEST(GuardTest, DecisionTable) {
  const GuardSettings settings{absl::Seconds(10), 0.01, 100};
  struct Case {
    GuardSample sample;
    bool over;
    GuardDecision want;
    const char* why;
  } cases[] = {
      {{0, 0, 0, 0}, false, GuardDecision::kWatch, "no traffic yet"},
      {{0, 0, 0, 0}, true, GuardDecision::kKeep, "no traffic at all"},
      {{99, 99, 100, 0}, false, GuardDecision::kWatch, "all errors but too few requests"},
      {{99, 99, 100, 0}, true, GuardDecision::kKeep, "too few requests at the end"},
      {{100, 50, 100, 0}, false, GuardDecision::kRevert, "early revert at min_requests"},
      {{1000, 10, 1000, 0}, false, GuardDecision::kWatch, "exactly the maximum is fine"},
      {{1000, 11, 1000, 0}, false, GuardDecision::kRevert, "just above the maximum"},
      {{1000, 11, 1000, 0}, true, GuardDecision::kRevert, "a revert wins at the end too"},
      {{1000, 400, 1000, 400}, true, GuardDecision::kKeep, "as bad as before: kept"},
      {{1000, 400, 1000, 500}, false, GuardDecision::kWatch, "better than before"},
      {{1000, 401, 1000, 400}, false, GuardDecision::kRevert, "worse than before"},
      {{1000, 50, 0, 0}, false, GuardDecision::kRevert, "no traffic before: ratio 0"},
  };
  for (const Case& c : cases) {
    EXPECT_EQ(Decide(settings, c.sample, c.over), c.want) << c.why;
  }
  EXPECT_EQ(Decide({absl::Seconds(1), 0, 1}, {1, 1, 0, 0}, false), GuardDecision::kRevert);
  EXPECT_EQ(Decide({absl::Seconds(1), 0, 1}, {1, 0, 0, 0}, true), GuardDecision::kKeep);
}

TEST(GuardTest, SampleComparesTheSameLengthOfTimeBeforeTheApply) {
  PendingGuard guard;
  guard.version = 8;
  guard.previous_version = 7;
  guard.applied_ms = 100'400;  // second 100
  VersionTraffic traffic;
  VersionTrafficEntry& before = traffic.versions[7];
  before.seconds[90] = {1000, 1000};  // long before: outside a 3 s window
  before.seconds[98] = {100, 1};
  before.seconds[99] = {100, 1};
  before.seconds[100] = {50, 0};  // the apply's own second
  VersionTrafficEntry& after = traffic.versions[8];
  after.total = {300, 90};
  after.errors_by_kind[static_cast<size_t>(ErrorKind::kNoRoute)] = 60;
  after.errors_by_kind[static_cast<size_t>(ErrorKind::kLocal503)] = 30;
  after.route_errors = {{"api", 20}, {"web", 10}};

  v1::GuardVerdict verdict;
  GuardSample sample = SampleOf(guard, traffic, 102'500, &verdict);  // 2.1 s: 3 seconds back
  EXPECT_EQ(sample.requests, 300u);
  EXPECT_EQ(sample.errors, 90u);
  EXPECT_EQ(sample.previous_requests, 250u);
  EXPECT_EQ(sample.previous_errors, 2u);
  EXPECT_EQ(verdict.elapsed_ms(), 2100);
  EXPECT_DOUBLE_EQ(verdict.error_ratio(), 0.3);
  EXPECT_DOUBLE_EQ(verdict.previous_error_ratio(), 0.008);
  EXPECT_EQ(verdict.top_error_kind(), "no route");
  EXPECT_EQ(verdict.top_error_kind_count(), 60u);
  EXPECT_EQ(verdict.top_error_route(), "api");

  sample = SampleOf(guard, traffic, 100'900, nullptr);  // 0.5 s: the apply's second only
  EXPECT_EQ(sample.previous_requests, 50u);
  sample = SampleOf(guard, traffic, 111'000, nullptr);  // 10.6 s: 11 seconds, back to 90
  EXPECT_EQ(sample.previous_requests, 1250u);
  EXPECT_EQ(sample.previous_errors, 1002u);
}

TEST(GuardTest, Texts) {
  v1::GuardVerdict verdict;
  verdict.set_elapsed_ms(6100);
  verdict.set_requests(12350);
  verdict.set_errors(4693);
  verdict.set_error_ratio(0.38);
  verdict.set_previous_error_ratio(0.001);
  verdict.set_top_error_kind("no route");
  verdict.set_top_error_kind_count(4700);
  verdict.set_top_error_route("api");
  EXPECT_EQ(RevertText(verdict, 8),
            "guard: version 8 reverted after 6.1 s: 38.0% errors (no route: 4,700 of 12,350; "
            "route api) vs 0.10% before");

  v1::GuardVerdict few;
  few.set_min_requests(100);
  few.set_requests(12);
  EXPECT_EQ(KeepText(few), "too few requests: 12 < 100; kept");
  v1::GuardVerdict fine;
  fine.set_min_requests(100);
  fine.set_max_error_ratio(0.01);
  fine.set_requests(12410);
  fine.set_errors(3);
  fine.set_error_ratio(3.0 / 12410);
  EXPECT_EQ(KeepText(fine), "0.02% errors (3 of 12,410), not above the maximum 1.0%; kept");
  v1::GuardVerdict same = fine;
  same.set_errors(5000);
  same.set_error_ratio(0.4);
  same.set_previous_requests(1000);
  same.set_previous_errors(450);
  same.set_previous_error_ratio(0.45);
  EXPECT_EQ(KeepText(same),
            "40.0% errors (5,000 of 12,410), not above 45.0% before (450 of "
            "1,000); kept");
  EXPECT_EQ(WithCommas(0), "0");
  EXPECT_EQ(WithCommas(999), "999");
  EXPECT_EQ(WithCommas(1000), "1,000");
  EXPECT_EQ(WithCommas(1234567), "1,234,567");
}

}  // namespace
}  // namespace rwproxy::control
