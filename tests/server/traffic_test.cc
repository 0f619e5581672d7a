// TrafficCounter (server/stats/traffic.h): per-version requests and errors per second, kinds,
// per-route errors of the current version, the ring's bound and version slots.
#include "server/stats/traffic.h"

#include <string>

#include "gtest/gtest.h"

namespace rwproxy {
namespace {

std::string RouteName(size_t i) { return "r" + std::to_string(i); }

VersionTraffic Collected(const TrafficCounter& counter) {
  VersionTraffic out;
  counter.Collect(&out, RouteName);
  return out;
}

TEST(TrafficTest, ClassifiesResponses) {
  struct Case {
    int status;
    bool local, no_route;
    ErrorKind kind;
  } cases[] = {
      {200, false, false, ErrorKind::kNone},        {404, false, false, ErrorKind::kNone},
      {404, true, false, ErrorKind::kNone},         {404, true, true, ErrorKind::kNoRoute},
      {499, true, false, ErrorKind::kNone},         {500, false, false, ErrorKind::kUpstream5xx},
      {503, false, false, ErrorKind::kUpstream5xx}, {502, true, false, ErrorKind::kLocal502},
      {503, true, false, ErrorKind::kLocal503},     {504, true, false, ErrorKind::kLocal504},
      {500, true, false, ErrorKind::kLocalOther},   {0, false, false, ErrorKind::kNone},
  };
  for (const Case& c : cases) {
    EXPECT_EQ(ClassifyResponse(c.status, c.local, c.no_route), c.kind)
        << c.status << " local " << c.local << " no_route " << c.no_route;
  }
  EXPECT_EQ(std::string(ErrorKindName(ErrorKind::kNoRoute)), "no route");
  EXPECT_EQ(std::string(ErrorKindName(ErrorKind::kLocal503)), "local 503");
}

TEST(TrafficTest, CountsPerVersionSecondKindAndRoute) {
  TrafficCounter counter;
  counter.Begin(7, 2);
  counter.Count(7, 100, ErrorKind::kNone, 0);
  counter.Count(7, 100, ErrorKind::kUpstream5xx, 1);
  counter.Count(7, 101, ErrorKind::kNoRoute, -1);
  counter.Begin(8, 3);
  counter.Count(8, 101, ErrorKind::kLocal503, 2);
  counter.Count(8, 101, ErrorKind::kLocal503, 2);
  counter.Count(7, 101, ErrorKind::kNone, 0);  // in flight on the old version: still counted
  counter.Count(3, 101, ErrorKind::kNone, 0);  // never begun: not counted

  const VersionTraffic traffic = Collected(counter);
  ASSERT_EQ(traffic.versions.size(), 2u);
  const VersionTrafficEntry& v7 = traffic.Of(7);
  EXPECT_EQ(v7.total.requests, 4u);
  EXPECT_EQ(v7.total.errors, 2u);
  EXPECT_EQ(v7.Window(100, 100).requests, 2u);
  EXPECT_EQ(v7.Window(100, 100).errors, 1u);
  EXPECT_EQ(v7.Window(101, 101).requests, 2u);
  EXPECT_TRUE(v7.route_errors.empty());  // only the current version names routes
  const VersionTrafficEntry& v8 = traffic.Of(8);
  EXPECT_EQ(v8.total.requests, 2u);
  uint64_t count = 0;
  EXPECT_EQ(v8.TopKind(&count), ErrorKind::kLocal503);
  EXPECT_EQ(count, 2u);
  EXPECT_EQ(v8.TopRoute(&count), "r2");
  EXPECT_EQ(count, 2u);
  EXPECT_EQ(traffic.Of(3).total.requests, 0u);
}

TEST(TrafficTest, RingKeepsTheLastSecondsOnly) {
  TrafficCounter counter;
  counter.Begin(1, 0);
  counter.Count(1, 10, ErrorKind::kNone, -1);
  counter.Count(1, 10 + TrafficCounter::kRingSeconds, ErrorKind::kUpstream5xx, -1);  // same slot
  const VersionTrafficEntry entry = Collected(counter).Of(1);
  EXPECT_EQ(entry.seconds.size(), 1u);
  EXPECT_EQ(entry.Window(0, 10).requests, 0u);  // overwritten
  EXPECT_EQ(
      entry.Window(10 + TrafficCounter::kRingSeconds, 10 + TrafficCounter::kRingSeconds).errors,
      1u);
  EXPECT_EQ(entry.total.requests, 2u);  // totals are not bounded by the ring
}

TEST(TrafficTest, KeepsThreeVersionsAndReusesTheOldest) {
  TrafficCounter counter;
  for (uint64_t v = 1; v <= 4; ++v) {
    counter.Begin(v, 1);
    counter.Count(v, 5, ErrorKind::kNone, 0);
  }
  const VersionTraffic traffic = Collected(counter);
  EXPECT_EQ(traffic.versions.size(), TrafficCounter::kVersions);
  EXPECT_EQ(traffic.versions.count(1), 0u);
  EXPECT_EQ(traffic.Of(4).total.requests, 1u);
  counter.Begin(4, 1);  // the same version again keeps its counts
  EXPECT_EQ(Collected(counter).Of(4).total.requests, 1u);
}

TEST(TrafficTest, MergeSumsWorkers) {
  TrafficCounter a, b;
  a.Begin(2, 1);
  b.Begin(2, 1);
  a.Count(2, 9, ErrorKind::kUpstream5xx, 0);
  b.Count(2, 9, ErrorKind::kNone, 0);
  b.Count(2, 10, ErrorKind::kUpstream5xx, 0);
  VersionTraffic total;
  total.Merge(Collected(a));
  total.Merge(Collected(b));
  const VersionTrafficEntry& e = total.Of(2);
  EXPECT_EQ(e.total.requests, 3u);
  EXPECT_EQ(e.Window(9, 9).requests, 2u);
  EXPECT_EQ(e.Window(9, 10).errors, 2u);
  EXPECT_EQ(e.route_errors.at("r0"), 2u);
}

}  // namespace
}  // namespace rwproxy
