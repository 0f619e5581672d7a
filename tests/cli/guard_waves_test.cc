// Unit tests of the guard and wave helpers: ratios, wave sizes, verdict lines.
#include <string>
#include <vector>

#include "cli/guard.h"
#include "cli/waves.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace rwproxy::cli {
namespace {

using ::testing::HasSubstr;
using Ends = std::vector<size_t>;

TEST(ParseWavesTest, CountsAndPercentagesAreCumulative) {
  auto seven = ParseWaves("1,10%,50%,100%", 7);
  ASSERT_TRUE(seven.ok()) << seven.status();
  // 10% of 7 rounds up to 1: that wave adds nobody and is dropped; 50% of 7 is 4.
  EXPECT_EQ(*seven, (Ends{1, 4, 7}));
  auto two_hundred = ParseWaves("1,10%,50%,100%", 200);
  ASSERT_TRUE(two_hundred.ok()) << two_hundred.status();
  EXPECT_EQ(*two_hundred, (Ends{1, 20, 100, 200}));
  EXPECT_EQ(*ParseWaves(" 2 , 12.5% ,100%", 16), (Ends{2, 16}));
  EXPECT_EQ(*ParseWaves("12.5%,100%", 8), (Ends{1, 8}));
  EXPECT_EQ(*ParseWaves("1,1000", 3), (Ends{1, 3}));  // a count above the list means all
  EXPECT_EQ(*ParseWaves("100%", 1), (Ends{1}));
  EXPECT_EQ(*ParseWaves("3,5", 5), (Ends{3, 5}));
}

TEST(ParseWavesTest, BadSpecsAreErrorsNamingTheItem) {
  struct Case {
    std::string spec;
    size_t targets;
    std::string want;
  };
  const std::vector<Case> cases = {
      {"", 5, "empty wave size"},
      {"1,,100%", 5, "empty wave size"},
      {"1,100%,", 5, "empty wave size"},
      {"0,100%", 5, "'0' is not a target count"},
      {"0%,100%", 5, "'0%' is not a percentage"},
      {"150%", 5, "'150%' is not a percentage"},
      {"abc", 5, "'abc' is not a target count"},
      {"-1,100%", 5, "'-1' is not a target count"},
      {"1.5,100%", 5, "'1.5' is not a target count"},
      {"%", 5, "'%' is not a percentage"},
      {"10%%", 5, "'10%%' is not a percentage"},
      {"4,2,100%", 5, "'2' (2 targets) is smaller than the wave before it (4)"},
      {"50%,1", 10, "'1' (1 targets) is smaller"},
      {"1,10%", 200, "the last wave reaches 20 of 200 targets; end with 100%"},
  };
  for (const Case& c : cases) {
    auto ends = ParseWaves(c.spec, c.targets);
    ASSERT_FALSE(ends.ok()) << "'" << c.spec << "' parsed";
    EXPECT_THAT(std::string(ends.status().message()), HasSubstr(c.want)) << c.spec;
  }
}

TEST(ParseRatioTest, PercentOrFraction) {
  EXPECT_DOUBLE_EQ(*ParseRatio("1%"), 0.01);
  EXPECT_DOUBLE_EQ(*ParseRatio("0.01"), 0.01);
  EXPECT_DOUBLE_EQ(*ParseRatio("0.5%"), 0.005);
  EXPECT_DOUBLE_EQ(*ParseRatio("100%"), 1.0);
  EXPECT_DOUBLE_EQ(*ParseRatio("0"), 0.0);
  for (const char* bad : {"", "%", "abc", "1.5", "101%", "-1%", "nan"}) {
    EXPECT_FALSE(ParseRatio(bad).ok()) << bad;
  }
}

TEST(MakeGuardTest, DurationRangeAndDefaultsLeftToTheServer) {
  auto guard = MakeGuard("30s", "", std::nullopt);
  ASSERT_TRUE(guard.ok()) << guard.status();
  EXPECT_EQ(guard->duration(), "30s");
  EXPECT_FALSE(guard->has_max_error_ratio());
  EXPECT_FALSE(guard->has_min_requests());
  guard = MakeGuard("2m", "2%", 0);
  ASSERT_TRUE(guard.ok()) << guard.status();
  EXPECT_DOUBLE_EQ(guard->max_error_ratio(), 0.02);
  EXPECT_TRUE(guard->has_min_requests());
  EXPECT_EQ(VerdictWaitBound(*guard), absl::Seconds(132));
  EXPECT_EQ(VerdictWaitBound(*MakeGuard("2s", "", std::nullopt)), absl::Seconds(12));
  EXPECT_THAT(std::string(MakeGuard("500ms", "", std::nullopt).status().message()),
              HasSubstr("outside 1s..1h"));
  EXPECT_THAT(std::string(MakeGuard("2h", "", std::nullopt).status().message()),
              HasSubstr("outside 1s..1h"));
  EXPECT_THAT(std::string(MakeGuard("soon", "", std::nullopt).status().message()),
              HasSubstr("not a duration"));
  EXPECT_THAT(std::string(MakeGuard("30s", "2", std::nullopt).status().message()),
              HasSubstr("--max-error-ratio: '2' is outside 0..1"));
}

v1::GuardVerdict Verdict(v1::GuardVerdict::Outcome outcome, uint64_t requests, uint64_t errors) {
  v1::GuardVerdict v;
  v.set_outcome(outcome);
  v.set_duration("30s");
  v.set_max_error_ratio(0.01);
  v.set_min_requests(100);
  v.set_requests(requests);
  v.set_errors(errors);
  v.set_error_ratio(requests == 0 ? 0 : static_cast<double>(errors) / requests);
  return v;
}

TEST(DescribeVerdictTest, OneLinePerOutcome) {
  EXPECT_EQ(DescribeVerdict(Verdict(v1::GuardVerdict::KEPT, 12410, 2)),
            "guard 30s: kept (0.02% errors, 12,410 requests)");
  EXPECT_EQ(DescribeVerdict(Verdict(v1::GuardVerdict::KEPT, 12, 0)),
            "guard 30s: kept: too few requests to judge (12 < 100; 0.00% errors)");
  v1::GuardVerdict high = Verdict(v1::GuardVerdict::KEPT, 1000, 50);
  high.set_previous_error_ratio(0.06);
  EXPECT_EQ(DescribeVerdict(high),
            "guard 30s: kept (5.0% errors, 1,000 requests): the previous version had 6.0%");
  v1::GuardVerdict reverted = Verdict(v1::GuardVerdict::REVERTED, 12350, 4693);
  reverted.set_restored_version(7);
  reverted.set_revert_version(9);
  reverted.set_elapsed_ms(6100);
  reverted.set_top_error_kind("no route");
  reverted.set_top_error_kind_count(4700);
  reverted.set_top_error_route("api");
  EXPECT_EQ(DescribeVerdict(reverted),
            "guard: reverted to version 7 after 6.1 s: 38.0% errors "
            "(no route: 4,700 of 12,350; route api)");
  v1::GuardVerdict superseded = Verdict(v1::GuardVerdict::SUPERSEDED, 0, 0);
  superseded.set_elapsed_ms(3200);
  EXPECT_EQ(DescribeVerdict(superseded),
            "guard 30s: superseded by a newer apply after 3.2 s; this version was not judged");
  EXPECT_THAT(DescribeVerdict(Verdict(v1::GuardVerdict::PENDING, 0, 0)),
              HasSubstr("guard 30s: pending on the server"));
  EXPECT_EQ(VerdictExitCode(reverted), 1);
  EXPECT_EQ(VerdictExitCode(superseded), 1);
  v1::GuardVerdict failed = Verdict(v1::GuardVerdict::REVERT_FAILED, 200, 100);
  failed.set_reason("guard: version 8 reverted ...; the revert failed: cannot persist version 9");
  EXPECT_TRUE(IsDecided(failed));
  EXPECT_EQ(DescribeVerdict(failed),
            "guard: the revert FAILED, this version is still live: guard: version 8 reverted ...; "
            "the revert failed: cannot persist version 9");
  EXPECT_EQ(VerdictExitCode(failed), 1);
  EXPECT_EQ(VerdictExitCode(Verdict(v1::GuardVerdict::KEPT, 12, 0)), 0);
}

}  // namespace
}  // namespace rwproxy::cli
