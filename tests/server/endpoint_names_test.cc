// EndpointNames (server/upstream/endpoint_names.h): the hostnames of one cluster, their last good
// addresses, the names that do not resolve yet and their retry schedule. Time is passed in, so
// these tests need no threads and no sleeping.
#include "server/upstream/endpoint_names.h"

#include <string>
#include <vector>

#include "boost/asio/ip/address.hpp"
#include "gtest/gtest.h"

namespace rwproxy {
namespace {

using std::chrono::milliseconds;
using Kind = EndpointNames::Change::Kind;

constexpr int64_t kUnix0 = 1714557600000;  // 2024-05-01T10:00:00Z

EndpointInfo Address(const std::string& ip, uint16_t port, const std::string& source) {
  boost::asio::ip::tcp::endpoint address(boost::asio::ip::make_address(ip), port);
  return {EndpointKey(address), address, source};
}

Resolution Answer(std::vector<std::string> ips, uint16_t port) {
  Resolution r;
  r.ok = true;
  for (const auto& ip : ips) r.addresses.emplace_back(boost::asio::ip::make_address(ip), port);
  return r;
}

Resolution Failure(const std::string& error) {
  Resolution r;
  r.error = error;
  return r;
}

std::vector<std::string> Keys(const std::vector<EndpointInfo>& endpoints) {
  std::vector<std::string> out;
  for (const auto& e : endpoints) out.push_back(e.key);
  return out;
}

std::vector<std::string> Sources(const std::vector<EndpointSpec>& specs) {
  std::vector<std::string> out;
  for (const auto& s : specs) out.push_back(s.Key());
  return out;
}

class EndpointNamesTest : public testing::Test {
 protected:
  // Cluster "app": 127.0.0.1:80, a.test:80 (resolved by the compile unless `a_fails`) and
  // b.test:80 (never resolved by the compile); dns_refresh 5s.
  ClusterInfo Info(bool a_fails = false) {
    ClusterInfo info;
    info.name = "app";
    info.configured = {{"127.0.0.1", 80}, {"a.test", 80}, {"b.test", 80}};
    info.dns_refresh = absl::Seconds(5);
    info.endpoints.push_back(Address("127.0.0.1", 80, "127.0.0.1:80"));
    if (a_fails) {
      info.unresolved.push_back({"a.test:80", "cannot resolve 'a.test': timeout"});
    } else {
      info.endpoints.push_back(Address("10.0.0.1", 80, "a.test:80"));
    }
    info.unresolved.push_back({"b.test:80", "cannot resolve 'b.test': Host not found"});
    return info;
  }
  EndpointNames::Now At(milliseconds after) { return {t0_ + after, kUnix0 + after.count()}; }
  std::vector<EndpointSpec> Due(milliseconds after, bool* full) {
    return names_.Due(t0_ + after, full);
  }

  EndpointNames::Clock::time_point t0_ = EndpointNames::Clock::now();
  EndpointNames names_;
  std::vector<EndpointNames::Change> changes_;
};

TEST_F(EndpointNamesTest, AnUnresolvedNameIsListedAndRetriedWithABackoffUpToDnsRefresh) {
  EXPECT_EQ(names_.Configure(Info(), At(milliseconds(0)), &changes_), 1u);
  ASSERT_EQ(changes_.size(), 1u);
  EXPECT_EQ(changes_[0].kind, Kind::kUnresolved);
  EXPECT_EQ(changes_[0].source, "b.test:80");
  EXPECT_EQ(changes_[0].detail, "cannot resolve 'b.test': Host not found");
  EXPECT_EQ(Keys(names_.Endpoints()), (std::vector<std::string>{"127.0.0.1:80", "10.0.0.1:80"}));
  EXPECT_EQ(names_.UnresolvedNames(), std::vector<std::string>{"b.test:80"});
  const EndpointNames::Unresolved* b = names_.FindUnresolved("b.test:80");
  ASSERT_NE(b, nullptr);
  EXPECT_EQ(b->since_unix_ms, kUnix0);
  EXPECT_EQ(b->failures, 1u);
  EXPECT_EQ(names_.NextLookupUnixMs(*b), kUnix0 + 1000);

  // 1 s, then 2 s, 4 s, then capped at dns_refresh (5 s); only the unresolved name is retried.
  bool full = true;
  EXPECT_TRUE(Due(milliseconds(999), &full).empty());
  EXPECT_EQ(Sources(Due(milliseconds(1000), &full)), std::vector<std::string>{"b.test:80"});
  EXPECT_FALSE(full);
  changes_.clear();
  EXPECT_EQ(names_.OnAnswers({{"b.test", 80}}, {Failure("still not")}, false,
                             At(milliseconds(1000)), &changes_),
            1u);
  EXPECT_TRUE(changes_.empty());  // logged once, when it first failed
  EXPECT_EQ(b->error, "still not");
  EXPECT_EQ(b->failures, 2u);
  EXPECT_EQ(b->since_unix_ms, kUnix0);
  EXPECT_TRUE(Due(milliseconds(2999), &full).empty());
  EXPECT_EQ(Due(milliseconds(3000), &full).size(), 1u);
  names_.OnAnswers({{"b.test", 80}}, {Failure("no")}, false, At(milliseconds(3000)), &changes_);
  EXPECT_EQ(b->retry_unix_ms, kUnix0 + 7000);  // 4 s later
  // The periodic refresh (every 5 s) comes first and looks up every name.
  EXPECT_EQ(names_.NextLookupUnixMs(*b), kUnix0 + 5000);
  EXPECT_EQ(Sources(Due(milliseconds(5000), &full)),
            (std::vector<std::string>{"a.test:80", "b.test:80"}));
  EXPECT_TRUE(full);
  names_.OnAnswers({{"a.test", 80}, {"b.test", 80}}, {Answer({"10.0.0.1"}, 80), Failure("no")},
                   true, At(milliseconds(5000)), &changes_);
  EXPECT_EQ(b->retry_unix_ms, kUnix0 + 10000);  // min(8 s, dns_refresh)
  EXPECT_TRUE(Due(milliseconds(9999), &full).empty());
}

TEST_F(EndpointNamesTest, ANameThatResolvesJoinsTheEndpointsInConfiguredOrder) {
  names_.Configure(Info(), At(milliseconds(0)), &changes_);
  changes_.clear();
  EXPECT_EQ(names_.OnAnswers({{"b.test", 80}}, {Answer({"10.0.0.3", "10.0.0.2"}, 80)}, false,
                             At(milliseconds(1000)), &changes_),
            0u);
  ASSERT_EQ(changes_.size(), 1u);
  EXPECT_EQ(changes_[0].kind, Kind::kResolved);
  EXPECT_EQ(changes_[0].source, "b.test:80");
  EXPECT_EQ(changes_[0].detail, "10.0.0.3:80, 10.0.0.2:80");
  EXPECT_EQ(Keys(names_.Endpoints()), (std::vector<std::string>{"127.0.0.1:80", "10.0.0.1:80",
                                                                "10.0.0.3:80", "10.0.0.2:80"}));
  EXPECT_EQ(names_.Endpoints()[2].source, "b.test:80");
  EXPECT_TRUE(names_.UnresolvedNames().empty());
  EXPECT_EQ(names_.unresolved_count(), 0u);
  bool full = true;
  EXPECT_TRUE(Due(milliseconds(4999), &full).empty());  // only the periodic refresh now
}

TEST_F(EndpointNamesTest, AFailedRefreshKeepsTheLastAddresses) {
  names_.Configure(Info(), At(milliseconds(0)), &changes_);
  EXPECT_EQ(names_.OnAnswers({{"a.test", 80}, {"b.test", 80}}, {Failure("x"), Failure("y")}, true,
                             At(milliseconds(5000)), &changes_),
            2u);
  EXPECT_EQ(Keys(names_.Endpoints()), (std::vector<std::string>{"127.0.0.1:80", "10.0.0.1:80"}));
  EXPECT_EQ(names_.UnresolvedNames(), std::vector<std::string>{"b.test:80"});
}

TEST_F(EndpointNamesTest, ANewConfigKeepsTheLastAddressesOfANameItCouldNotResolve) {
  names_.Configure(Info(), At(milliseconds(0)), &changes_);
  changes_.clear();
  // The apply's compile could not resolve a.test (DNS blip): it still serves 10.0.0.1.
  EXPECT_EQ(names_.Configure(Info(/*a_fails=*/true), At(milliseconds(2000)), &changes_), 2u);
  EXPECT_EQ(Keys(names_.Endpoints()), (std::vector<std::string>{"127.0.0.1:80", "10.0.0.1:80"}));
  EXPECT_EQ(names_.UnresolvedNames(), std::vector<std::string>{"b.test:80"});
  ASSERT_EQ(changes_.size(), 1u);  // b.test was logged already
  EXPECT_EQ(changes_[0].kind, Kind::kKept);
  EXPECT_EQ(changes_[0].source, "a.test:80");
  // b.test keeps its history: first failure at 0; the apply's lookup is its second failure.
  const EndpointNames::Unresolved* b = names_.FindUnresolved("b.test:80");
  ASSERT_NE(b, nullptr);
  EXPECT_EQ(b->since_unix_ms, kUnix0);
  EXPECT_EQ(b->failures, 2u);
}

TEST_F(EndpointNamesTest, ANewConfigThatResolvesAnUnresolvedNameSaysSo) {
  names_.Configure(Info(), At(milliseconds(0)), &changes_);
  changes_.clear();
  ClusterInfo info = Info();
  info.unresolved.clear();
  info.endpoints.push_back(Address("10.0.0.9", 80, "b.test:80"));
  EXPECT_EQ(names_.Configure(info, At(milliseconds(100)), &changes_), 0u);
  ASSERT_EQ(changes_.size(), 1u);
  EXPECT_EQ(changes_[0].kind, Kind::kResolved);
  EXPECT_EQ(changes_[0].detail, "10.0.0.9:80");
  EXPECT_TRUE(names_.UnresolvedNames().empty());
}

TEST_F(EndpointNamesTest, IpLiteralsAreNeverLookedUp) {
  ClusterInfo info;
  info.configured = {{"127.0.0.1", 80}, {"::1", 81}};
  info.endpoints = {Address("127.0.0.1", 80, "127.0.0.1:80"), Address("::1", 81, "[::1]:81")};
  names_.Configure(info, At(milliseconds(0)), &changes_);
  bool full = true;
  EXPECT_TRUE(Due(milliseconds(60000), &full).empty());
  EXPECT_FALSE(full);
  EXPECT_EQ(Keys(names_.Endpoints()), (std::vector<std::string>{"127.0.0.1:80", "[::1]:81"}));
}

}  // namespace
}  // namespace rwproxy
